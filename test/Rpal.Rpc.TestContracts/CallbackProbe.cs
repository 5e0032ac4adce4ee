namespace Rpal.Rpc.TestContracts;

/// <summary>
/// <see cref="ICallbackProbe"/> for either side: <typeparamref name="TPeer"/> is the other
/// side's contract, connected at the first call (the peer's server is up by then).
/// </summary>
public sealed class CallbackProbe<TPeer> : ICallbackA, ICallbackB, IAsyncDisposable
    where TPeer : class, ICallbackProbe
{
    private readonly string _peerName;
    private readonly Lock _lock = new();
    private RpalChannel? _channel;
    private TPeer? _peer;

    /// <param name="peerName">The service name of the other side.</param>
    public CallbackProbe(string peerName) => _peerName = peerName;

    /// <inheritdoc/>
    public int Outer(int value) => Peer.Middle(value) + 1;

    /// <inheritdoc/>
    public int OuterSyncOverAsync(int value) => Peer.MiddleAsync(value).AsTask().Result + 1;

    /// <inheritdoc/>
    public int Middle(int value) => Peer.Inner(value) + 1;

    /// <inheritdoc/>
    public ValueTask<int> MiddleAsync(int value) => ValueTask.FromResult(Peer.Inner(value) + 1);

    /// <inheritdoc/>
    public int Inner(int value) => value * 2;

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_channel is { } channel)
        {
            await channel.DisposeAsync();
        }
    }

    private TPeer Peer
    {
        get
        {
            lock (_lock)
            {
                if (_peer is null)
                {
                    _channel = RpalChannel.ConnectAsync(_peerName).AsTask().GetAwaiter().GetResult();
                    _peer = _channel.CreateClient<TPeer>();
                }

                return _peer;
            }
        }
    }
}
