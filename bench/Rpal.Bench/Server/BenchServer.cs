using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Quickstart;
using Rpal.Bench.Contracts;
using Rpal.Rpc;

namespace Rpal.Bench.Server;

/// <summary>
/// The "serve DIR" command: the server process of the rtt, paced, size, throughput and stream
/// scenarios. Pinned to <see cref="Affinity.ServerCore"/>, it hosts the same
/// <see cref="BenchService"/> over Rpal and over grpc-dotnet (HTTP/2 on a Unix socket), a raw
/// engine echo and an epoll Unix-socket echo; prints "ready" when all four listen, answers the
/// commands of its standard input (<see cref="CpuCommand"/>), and exits when its standard input
/// closes.
/// </summary>
internal static class BenchServer
{
    /// <summary>
    /// The command "cpu" asks for the server's CPU time so far, user and system, of all its
    /// threads: it answers "cpu NS" (CLOCK_PROCESS_CPUTIME_ID, ns). Pinned, all its threads share one
    /// core, so none is running while the thread that answers reads the clock: the reading is exact
    /// (a thread running elsewhere would count only up to its last tick).
    /// </summary>
    public const string CpuCommand = "cpu";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 1)
        {
            await Console.Error.WriteLineAsync("usage: rpal-bench serve DIR");
            return 2;
        }

        var endpoints = new BenchEndpoints(args[0]);
        if (!Affinity.PinProcess(Affinity.ServerCore))
        {
            await Console.Error.WriteLineAsync("rpal-bench serve: not pinned (one core, or sched_setaffinity failed)");
        }

        var service = new BenchService();
        await using var rpal = new RpalServer();
        rpal.AddService<IBenchService>(service);
        await rpal.StartAsync();
        using var raw = new RawEngineEcho(BenchEndpoints.RawEngineService);
        EpollEcho.Start(endpoints.EchoSocket);
        FloorLine.Start(endpoints.FloorSocket, endpoints.FloorLine, Affinity.ServerCore);

        File.Delete(endpoints.GrpcSocket); // Kestrel will not bind over a stale socket file
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders(); // stdout carries "ready" and the answers to commands only
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(endpoints.GrpcSocket, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc().AddRpalService<IBenchService>();
        builder.Services.AddSingleton<IBenchService>(service);
        await using WebApplication app = builder.Build();
        app.MapGrpcService<IBenchService>();
        await app.StartAsync();

        Console.WriteLine("ready");
        await Console.Out.FlushAsync();
        // Commands on stdin, one a line (BenchServerProcess sends them); its end (the client is
        // done, or died) stops the server.
        while (await Console.In.ReadLineAsync() is { } command)
        {
            if (command == CpuCommand)
            {
                Console.WriteLine(FormattableString.Invariant($"{CpuCommand} {Clocks.ProcessCpuNs()}"));
                await Console.Out.FlushAsync();
            }
        }

        await app.StopAsync();
        File.Delete(endpoints.GrpcSocket);
        File.Delete(endpoints.EchoSocket);
        return 0;
    }
}
