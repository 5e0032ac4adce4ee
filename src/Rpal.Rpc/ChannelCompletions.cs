using System.Collections.Concurrent;
using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>
/// The process's completion thread for submitted client calls: one <see cref="RpalReceiver"/>
/// watches every channel's connection and hands each engine completion to its pending call.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One per process, for the process's lifetime.")]
internal sealed class ChannelCompletions : IRpalReceiverHandler
{
    private static readonly Lazy<ChannelCompletions> s_shared = new(() => new ChannelCompletions());
    private readonly ConcurrentDictionary<ulong, Registration> _channels = new();
    private readonly RpalReceiver _receiver;
    private long _nextId;

    private ChannelCompletions() => _receiver = new RpalReceiver(this, "rpal-client");

    public static ChannelCompletions Shared => s_shared.Value;

    /// <summary>
    /// A channel's table of calls in flight. The connection joins the completion thread's set
    /// only with its first submitted call: a channel used for synchronous calls alone never
    /// has a waiter parked on its connection, so the server's replies wake nobody (no
    /// wake-up byte, no thread competing with the caller for a core).
    /// </summary>
    public Registration Add(RpalChannel channel)
    {
        ulong id = (ulong)Interlocked.Increment(ref _nextId);
        var registration = new Registration(this, channel, id);
        _channels[id] = registration;
        return registration;
    }

    public void OnEvents(RpalConnection connection, ulong token, uint events)
    {
        if (!_channels.TryGetValue(token, out Registration? registration))
        {
            return;
        }

        while (connection.Complete(out RpalCompletion completion) == 0)
        {
            registration.Deliver(in completion);
        }
    }

    /// <summary>One channel's calls in flight, by token (slot index and generation).</summary>
    internal sealed class Registration : IDisposable
    {
        private readonly ChannelCompletions _owner;
        private readonly RpalChannel _channel;
        private readonly ulong _id;
        private int _watched;
        private readonly Lock _lock = new();
        private PendingCall?[] _slots = new PendingCall?[64];
        private uint[] _generations = new uint[64];
        private readonly Stack<int> _free = new(Enumerable.Range(0, 64).Reverse());

        public Registration(ChannelCompletions owner, RpalChannel channel, ulong id)
        {
            _owner = owner;
            _channel = channel;
            _id = id;
        }

        public ulong Track(PendingCall pending)
        {
            if (Volatile.Read(ref _watched) == 0 && Interlocked.Exchange(ref _watched, 1) == 0)
            {
                _owner._receiver.Add(_channel.Connection, _id, RpalEpollEvents.RpalReply | RpalEpollEvents.RpalHangup);
            }

            lock (_lock)
            {
                if (_free.Count == 0)
                {
                    int n = _slots.Length;
                    Array.Resize(ref _slots, n * 2);
                    Array.Resize(ref _generations, n * 2);
                    for (int i = (n * 2) - 1; i >= n; i--)
                    {
                        _free.Push(i);
                    }
                }

                int index = _free.Pop();
                _slots[index] = pending;
                uint generation = ++_generations[index];
                return ((ulong)generation << 32) | (uint)index;
            }
        }

        public void Untrack(ulong token) => Take(token);

        public void Deliver(in RpalCompletion completion)
        {
            Take(completion.UserData)?.OnCompletion(in completion);
        }

        /// <summary>Fails every call still in flight (the channel is closing).</summary>
        public void Dispose()
        {
            _owner._channels.TryRemove(_id, out _); // the receiver lets go of the connection when it is disposed
            List<PendingCall> left = [];
            lock (_lock)
            {
                for (int i = 0; i < _slots.Length; i++)
                {
                    if (_slots[i] is { } p)
                    {
                        left.Add(p);
                        _slots[i] = null;
                    }
                }
            }

            var closed = new RpalCompletion { Result = -RpalErrno.ECONNRESET };
            foreach (PendingCall p in left)
            {
                p.OnCompletion(in closed);
            }
        }

        private PendingCall? Take(ulong token)
        {
            int index = (int)(uint)token;
            lock (_lock)
            {
                if ((uint)index >= (uint)_slots.Length || _generations[index] != (uint)(token >> 32) || _slots[index] is not { } p)
                {
                    return null;
                }

                _slots[index] = null;
                _free.Push(index);
                return p;
            }
        }
    }
}
