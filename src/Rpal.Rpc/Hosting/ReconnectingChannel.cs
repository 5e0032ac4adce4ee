using System.Diagnostics;
using Grpc.Core;
using Rpal.Rpc.Generated;

namespace Rpal.Rpc.Hosting;

/// <summary>
/// The connection of a client from <c>AddRpalClient</c>: connects on first use, and again after
/// a call on the current connection failed with Unavailable, no sooner than the backoff allows.
/// Calls never move from one connection to another: a call that failed stays failed.
/// </summary>
internal sealed class ReconnectingChannel : IDisposable
{
    private readonly string _serviceName;
    private readonly RpalClientOptions _options;
    private readonly CallOptions _callOptions;
    private readonly Action? _beforeConnect;
    private readonly Lock _lock = new();

    // Read without the lock on every call (the fast path); written under _lock.
    private volatile Connected? _current;

    // Under _lock: channels retired after an Unavailable, disposed once no call holds them (a
    // handler may throw Unavailable itself on a live connection, whose other calls go on).
    private readonly List<RpalChannel> _retired = [];
    private long _retryAt; // Stopwatch timestamp before which no connect is tried
    private TimeSpan _delay;
    private RpcException? _lastFailure;
    private bool _disposed;

    public ReconnectingChannel(string serviceName, RpalClientOptions options, CallOptions callOptions, Action? beforeConnect)
    {
        _serviceName = serviceName;
        _options = options;
        _callOptions = callOptions;
        _beforeConnect = beforeConnect;
        _delay = options.ReconnectDelay;
    }

    /// <summary>The connection calls use now: the current one, or a new one (throws RpcException when it cannot connect).</summary>
    public Connected Acquire() => _current ?? ConnectSlow();

    /// <summary>
    /// Called from an exception filter for every RpcException of a call on <paramref name="connected"/>:
    /// an Unavailable retires that connection, so that the next call connects again. Returns false
    /// (the exception goes on to the caller unchanged).
    /// </summary>
    public bool Failed(Connected connected, RpcException e)
    {
        if (e.StatusCode == StatusCode.Unavailable)
        {
            lock (_lock)
            {
                if (_current == connected)
                {
                    _current = null;
                    _retired.Add(connected.Channel);
                }
            }
        }

        return false;
    }

    private Connected ConnectSlow()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_current is { } current)
            {
                return current; // another caller connected meanwhile
            }

            DisposeRetired(all: false);
            long now = Stopwatch.GetTimestamp();
            if (now < _retryAt)
            {
                TimeSpan left = Stopwatch.GetElapsedTime(now, _retryAt);
                throw new RpcException(new Status(StatusCode.Unavailable,
                    $"Not connected to '{_serviceName}': the last connect failed ({_lastFailure?.Status.Detail}); the next is tried in {left.TotalMilliseconds:F0} ms (RpalClientOptions.ReconnectDelay)."));
            }

            try
            {
                _beforeConnect?.Invoke();
                RpalChannel channel = RpalChannel.Connect(_serviceName, _options.Channel);
                _delay = _options.ReconnectDelay;
                _retryAt = 0;
                _lastFailure = null;
                return _current = new Connected(channel, new RpalClientInvoker(channel, _callOptions));
            }
            catch (RpcException e)
            {
                _lastFailure = e;
                _retryAt = now + (long)(_delay.TotalSeconds * Stopwatch.Frequency);
                _delay = TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, Math.Max(_options.MaxReconnectDelay.Ticks, _options.ReconnectDelay.Ticks)));
                throw;
            }
        }
    }

    /// <summary>Disposes the retired channels no call holds (all of them when <paramref name="all"/>). Under _lock.</summary>
    private void DisposeRetired(bool all)
    {
        for (int i = _retired.Count - 1; i >= 0; i--)
        {
            if (all || _retired[i].Limiter.InFlight == 0)
            {
                _retired[i].Dispose();
                _retired.RemoveAt(i);
            }
        }
    }

    /// <summary>Closes the current and the retired connections; calls in flight fail with Unavailable.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _current?.Channel.Dispose();
            _current = null;
            DisposeRetired(all: true);
        }
    }

    /// <summary>A live connection and the invoker of calls on it.</summary>
    internal sealed class Connected(RpalChannel channel, RpalClientInvoker invoker)
    {
        public RpalChannel Channel { get; } = channel;

        public RpalClientInvoker Invoker { get; } = invoker;
    }
}
