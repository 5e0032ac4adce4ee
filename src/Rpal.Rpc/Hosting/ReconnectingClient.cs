namespace Rpal.Rpc.Hosting;

/// <summary>
/// The singleton behind a client from <c>AddRpalClient&lt;TService&gt;</c>: the generated client
/// and the connection it owns, which the container closes when it is disposed.
/// </summary>
internal sealed class ReconnectingClient<TService>(TService client, ReconnectingChannel channel) : IDisposable
    where TService : class
{
    public TService Client { get; } = client;

    public void Dispose() => channel.Dispose();
}
