using System.Collections.Concurrent;
using Rpal.Rpc.Wire;
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

    /// <summary>Runs <paramref name="work"/> on the completion receiver (taken over like any receiver's work when it blocks).</summary>
    public void Post(Action<object?> work, object? state) => _receiver.Post(work, state);

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

        if ((events & RpalEpollEvents.RpalIn) != 0)
        {
            registration.DrainMessages(wait: true);
        }

        while (connection.Complete(out RpalCompletion completion) == 0)
        {
            registration.Deliver(in completion);
        }

        if ((events & RpalEpollEvents.RpalHangup) != 0)
        {
            registration.OnHangUp();
        }
    }

    /// <summary>One channel's calls in flight, by token (slot index and generation).</summary>
    internal sealed class Registration : IDisposable
    {
        private readonly ChannelCompletions _owner;
        private readonly RpalChannel _channel;
        private readonly ulong _id;
        private readonly Lock _maskLock = new();
        private volatile bool _watched; // the connection is in the receiver's set (written under _maskLock)
        private int _openStreams; // streams submitted and not over (under _maskLock)
        private readonly Lock _lock = new();
        private readonly Lock _receiveLock = new(); // one thread takes the server's messages at a time
        private PendingCall?[] _slots = new PendingCall?[64];
        private uint[] _generations = new uint[64];
        private readonly Stack<int> _free = new(Enumerable.Range(0, 64).Reverse());

        // Streaming calls by call id, and the stream messages that arrived before their call's
        // submit returned its id (bounded: a server cannot make us hold more).
        private readonly Dictionary<ulong, Streaming.ClientStreamCall> _streams = [];
        private readonly List<RpalMessage> _early = [];
        private const int MaxEarly = 4 * StreamCodec.Window;

        public Registration(ChannelCompletions owner, RpalChannel channel, ulong id)
        {
            _owner = owner;
            _channel = channel;
            _id = id;
        }

        public ulong Track(PendingCall pending)
        {
            WatchCompletions();
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

        /// <summary>Puts the connection in the completion thread's set, if it is not there yet.</summary>
        public void WatchCompletions()
        {
            if (!_watched)
            {
                lock (_maskLock)
                {
                    Watch(_openStreams > 0 ? RpalEpollEvents.RpalAll : CompletionsOnly);
                }
            }
        }

        /// <summary>The server hung up or died.</summary>
        public void OnHangUp() => _channel.OnServerGone();

        private const uint CompletionsOnly = RpalEpollEvents.RpalReply | RpalEpollEvents.RpalHangup;

        /// <summary>
        /// A stream is about to be submitted: watch the connection for one-way messages too
        /// (the server's elements), until the last open stream is over. Without open streams the
        /// completion thread watches completions only, so that a blocking caller's reply wakes
        /// nobody else (no wake-up byte, no thread competing with the caller for a core).
        /// </summary>
        public void BeginStream()
        {
            lock (_maskLock)
            {
                if (_openStreams == 0)
                {
                    Watch(RpalEpollEvents.RpalAll); // throws when the connection is closed: no stream then
                }

                _openStreams++;
            }
        }

        /// <summary>A stream is over (or was never submitted).</summary>
        public void EndStream()
        {
            lock (_maskLock)
            {
                if (--_openStreams == 0 && _watched)
                {
                    try
                    {
                        _owner._receiver.SetEvents(_channel.Connection, CompletionsOnly);
                    }
                    catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
                    {
                        // the connection is closing: nothing left to watch
                    }
                }
            }
        }

        /// <summary>Puts the connection in the receiver's set, or changes its events (under _maskLock).</summary>
        private void Watch(uint events)
        {
            if (!_watched)
            {
                _owner._receiver.Add(_channel.Connection, _id, events);
                _watched = true;
            }
            else
            {
                _owner._receiver.SetEvents(_channel.Connection, events);
            }
        }

        public void AddStream(ulong callId, Streaming.ClientStreamCall call, Streaming.StreamCore core)
        {
            lock (_streams)
            {
                call.Attach(core);
                _streams[callId] = call;
                for (int i = 0; i < _early.Count; i++)
                {
                    RpalMessage m = _early[i];
                    if (ControlCodec.CallId(in m) == callId)
                    {
                        call.OnStreamMessage(in m, ControlCodec.Op(in m));
                        _early.RemoveAt(i--);
                    }
                }

                if (core.IsClosed)
                {
                    Forget(callId);
                }
            }
        }

        public void RemoveStream(ulong callId)
        {
            lock (_streams)
            {
                Forget(callId);
            }
        }

        /// <summary>Takes a stream out of the table (under its lock): nothing more comes for it.</summary>
        private void Forget(ulong callId)
        {
            if (_streams.Remove(callId))
            {
                EndStream();
            }
        }

        /// <summary>
        /// Takes the server's one-way messages (stream elements, end markers, credit) off the
        /// connection and routes them. One thread at a time, so that a stream's elements reach it
        /// in the order they were sent: the completion thread waits its turn (<paramref name="wait"/>),
        /// a reader spinning for its next element (<see cref="Pump"/>) does not.
        /// </summary>
        public void DrainMessages(bool wait)
        {
            if (wait)
            {
                _receiveLock.Enter();
            }
            else if (!_receiveLock.TryEnter())
            {
                return;
            }

            try
            {
                while (_channel.Connection.Receive(out RpalMessage message) == 0)
                {
                    OnMessage(in message);
                }
            }
            finally
            {
                _receiveLock.Exit();
            }
        }

        /// <summary>
        /// What the completion thread does for this channel, done by a reader spinning for its
        /// next element on its own thread (Streaming.StreamCore): the server's messages and the
        /// completions of the channel's calls, taken and routed.
        /// </summary>
        public void Pump()
        {
            DrainMessages(wait: false);
            while (_channel.Connection.Complete(out RpalCompletion completion) == 0)
            {
                Deliver(in completion);
            }
        }

        /// <summary>A one-way message from the server: a stream element, end marker or credit.</summary>
        private void OnMessage(in RpalMessage message)
        {
            if (!ControlCodec.TryRead(in message, out uint op) || op == ControlCodec.OpCancel)
            {
                Release(in message); // not part of the protocol (a server cancels nothing): ignored
                return;
            }

            ulong callId = ControlCodec.CallId(in message);
            lock (_streams)
            {
                if (_streams.TryGetValue(callId, out Streaming.ClientStreamCall? call))
                {
                    call.OnStreamMessage(in message, op);
                    if (op == ControlCodec.OpStreamEnd)
                    {
                        Forget(callId); // the server's last message for the call
                    }

                    return;
                }

                // Only elements and the end marker can race ahead of the submit's return: credit
                // comes for elements we sent, after it. Anything else names no call of ours.
                if (op != ControlCodec.OpWindow && _early.Count < MaxEarly)
                {
                    _early.Add(message);
                    return;
                }
            }

            Release(in message);
        }

        private void Release(in RpalMessage message)
        {
            if (message.Data != 0)
            {
                _channel.Connection.Release(in message);
            }
        }

        public void Deliver(in RpalCompletion completion)
        {
            if (completion.UserData == RpalChannel.AbandonedCall)
            {
                _channel.OnAbandonedCallEnded(in completion);
                return;
            }

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

            lock (_streams)
            {
                _streams.Clear();
                foreach (RpalMessage m in _early)
                {
                    Release(in m);
                }

                _early.Clear();
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
