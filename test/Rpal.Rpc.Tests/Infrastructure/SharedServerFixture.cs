using System.Collections.Concurrent;
using Rpal.Rpc.Generated;
using Rpal.Rpc.TestContracts;
using Xunit;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>
/// The server process that most test classes share: it serves <see cref="ServiceNames.Shared"/>
/// on two receiver threads; one channel per service is kept for the whole collection.
/// </summary>
public sealed class SharedServerFixture : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, RpalChannel> _channels = new();
    private ServerProcess? _server;

    internal ServerProcess Server => _server ?? throw new InvalidOperationException("the shared server is not started");

    /// <summary>The shared channel to <paramref name="serviceName"/>.</summary>
    public RpalChannel Channel(string serviceName) =>
        _channels.GetOrAdd(serviceName, name => TestEnvironment.ConnectAsync(name).AsTask().GetAwaiter().GetResult());

    /// <summary>A client of <typeparamref name="TService"/> on its shared channel.</summary>
    public TService Client<TService>()
        where TService : class => Channel(RpalServiceRegistry.Get<TService>().ServiceName).CreateClient<TService>();

    /// <inheritdoc/>
    public async Task InitializeAsync() =>
        _server = await ServerProcess.StartAsync([.. ServiceNames.Shared, "--receivers", "2"]);

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        foreach (RpalChannel channel in _channels.Values)
        {
            await channel.DisposeAsync();
        }

        _server?.Dispose();
    }
}
