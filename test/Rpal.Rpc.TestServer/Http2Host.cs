using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

/// <summary>grpc-dotnet serving the cross-host contract over HTTP/2 on a Unix socket.</summary>
internal static class Http2Host
{
    public static async Task<WebApplication> StartAsync(string socketPath, ICrossHostService implementation)
    {
        File.Delete(socketPath);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders(); // stdout carries the test's events only
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socketPath, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc().AddRpalService<ICrossHostService>();
        builder.Services.AddSingleton(implementation);
        WebApplication app = builder.Build();
        app.MapGrpcService<ICrossHostService>();
        await app.StartAsync();
        return app;
    }
}
