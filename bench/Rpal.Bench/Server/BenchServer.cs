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
/// The "serve DIR" command: the server process of the rtt, size and throughput scenarios. Pinned
/// to <see cref="Affinity.ServerCore"/>, it hosts the same <see cref="BenchService"/> over Rpal and
/// over grpc-dotnet (HTTP/2 on a Unix socket), a raw engine echo and an epoll Unix-socket echo;
/// prints "ready" when all four listen, and exits when its standard input closes.
/// </summary>
internal static class BenchServer
{
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

        File.Delete(endpoints.GrpcSocket); // Kestrel will not bind over a stale socket file
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders(); // stdout carries "ready" only
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(endpoints.GrpcSocket, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc().AddRpalService<IBenchService>();
        builder.Services.AddSingleton<IBenchService>(service);
        await using WebApplication app = builder.Build();
        app.MapGrpcService<IBenchService>();
        await app.StartAsync();

        Console.WriteLine("ready");
        await Console.Out.FlushAsync();
        await Console.In.ReadLineAsync(); // the client closes our stdin when it is done (or dies)
        await app.StopAsync();
        File.Delete(endpoints.GrpcSocket);
        File.Delete(endpoints.EchoSocket);
        return 0;
    }
}
