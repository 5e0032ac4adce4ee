using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Rpal.Runtime;

namespace Rpal.Rpc.Hosting;

/// <summary>
/// Runs the container's <see cref="RpalServer"/> with the host: starts the engine with the
/// configured <see cref="RpalEngineOptions"/> and the server when the host starts, and stops the
/// server when it stops (calls in flight get <see cref="RpalServerOptions.ShutdownGracePeriod"/>,
/// cut short by the host's shutdown timeout).
/// </summary>
internal sealed class RpalServerHostedService(RpalServer server, IOptions<RpalEngineOptions> engineOptions) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        RpalEngine.Start(engineOptions.Value);
        return server.StartAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => server.StopAsync(cancellationToken);
}
