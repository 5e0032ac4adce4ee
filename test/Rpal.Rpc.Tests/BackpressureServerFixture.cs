using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// The server of <see cref="BackpressureTests"/>: <see cref="IBackpressureService"/> with a
/// 1 MiB receive limit and 32 calls per connection.
/// </summary>
public sealed class BackpressureServerFixture : IAsyncLifetime
{
    /// <summary>The server's <see cref="RpalServerOptions.MaxReceiveMessageSize"/>.</summary>
    public const int MaxReceive = 1 << 20;

    /// <summary>The server's <see cref="RpalServerOptions.MaxConcurrentCallsPerConnection"/>.</summary>
    public const int MaxCallsPerConnection = 32;

    private ServerProcess? _server;

    internal ServerProcess Server => _server ?? throw new InvalidOperationException("the backpressure server is not started");

    /// <inheritdoc/>
    public async Task InitializeAsync() =>
        _server = await ServerProcess.StartAsync(
            ServiceNames.Backpressure, "--receivers", "2",
            "--max-receive", MaxReceive.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--max-calls-per-connection", MaxCallsPerConnection.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <inheritdoc/>
    public Task DisposeAsync()
    {
        _server?.Dispose();
        return Task.CompletedTask;
    }
}
