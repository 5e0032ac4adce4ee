using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rpal.Rpc.Hosting;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

/// <summary>
/// "host SERVICE... [--settings FILE]": the services run by a generic host through
/// AddRpalServer (HostingTests). Settings come from FILE (JSON) and the environment
/// (Rpal__Server__...). Writes "ready" once the host started; stdin takes "release TAG" and
/// "stop"; "stop", stdin closing or SIGTERM stops the host, which writes "stopping" and then
/// "stopped MS", the milliseconds the host's StopAsync took.
/// </summary>
internal static class HostMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var services = new List<string>();
        string? settings = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--settings")
            {
                settings = args[++i];
            }
            else
            {
                services.Add(args[i]);
            }
        }

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            DisableDefaults = false,
        });
        if (settings is not null)
        {
            builder.Configuration.AddJsonFile(settings, optional: false);
        }

        // stdout carries the events: the host's logs go to stderr
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

        IRpalServerBuilder rpal = builder.Services.AddRpalServer();
        foreach (string name in services)
        {
            switch (name)
            {
                case ServiceNames.Kill: rpal.AddService<IKillTarget, ProcessProbe>(); break;
                case ServiceNames.Lifecycle: rpal.AddService<ILifecycleTarget>(_ => new ProcessProbe()); break;
                default:
                    Console.Error.WriteLine($"unknown service '{name}' in host mode");
                    return 2;
            }
        }

        using IHost host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch (InvalidOperationException e)
        {
            Events.Write($"{ServerEvents.Error} {e.Message}");
            return 3;
        }

        IHostApplicationLifetime lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        Events.Write(ServerEvents.Ready);
        _ = Task.Run(async () =>
        {
            while (await Console.In.ReadLineAsync() is { } line)
            {
                switch (line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    case [ServerEvents.Stop]:
                        lifetime.StopApplication();
                        break;
                    case [ServerEvents.Release, var tag]:
                        Holds.Release(int.Parse(tag, CultureInfo.InvariantCulture));
                        break;
                    default:
                        Console.Error.WriteLine($"unknown command '{line}'");
                        break;
                }
            }

            lifetime.StopApplication(); // stdin closed
        });

        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration onStopping = lifetime.ApplicationStopping.Register(stopping.SetResult);
        await stopping.Task;
        Events.Write(ServerEvents.Stopping);
        long start = Stopwatch.GetTimestamp();
        await host.StopAsync();
        Events.Write($"{ServerEvents.Stopped} {(long)Stopwatch.GetElapsedTime(start).TotalMilliseconds}");
        return 0;
    }
}
