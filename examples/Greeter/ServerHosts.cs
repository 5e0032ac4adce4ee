using Greet;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rpal.Rpc;

namespace GreeterExample;

/// <summary>
/// The two server roles of this program. Each hosts the same <see cref="GreeterService"/>, prints
/// "ready" once it accepts calls, and stops when its standard input closes: the demo closes it
/// when done, and the kernel closes it when the demo dies, so no server outlives its demo.
/// </summary>
internal static class ServerHosts
{
    /// <summary>"server-rpal": greet.Greeter over Rpal, registered under its gRPC service name.</summary>
    public static async Task<int> RunRpalAsync()
    {
        await using var server = new RpalServer(new RpalServerOptions());
        server.AddService(Greeter.BindService(new GreeterService()));
        await server.StartAsync();
        Console.WriteLine("ready");
        await Console.In.ReadLineAsync();
        return 0;
    }

    /// <summary>"server-http2 SOCKETPATH": greet.Greeter over HTTP/2 (Kestrel, grpc-dotnet) on a Unix socket.</summary>
    public static async Task<int> RunHttp2Async(string socketPath)
    {
        File.Delete(socketPath); // Kestrel will not bind over a stale socket file
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        // Standard output carries only "ready"; warnings and errors go to standard error.
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.ListenUnixSocket(socketPath, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();

        await using WebApplication app = builder.Build();
        app.MapGrpcService<GreeterService>();
        await app.StartAsync();
        Console.WriteLine("ready");
        await Console.In.ReadLineAsync();
        await app.StopAsync();
        return 0;
    }
}
