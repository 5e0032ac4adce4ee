using System.Diagnostics;
using System.Threading.Channels;
using Grpc.Core;
using Rpal.Rpc.Wire;
using Rpal.Runtime;

namespace Rpal.Rpc.Streaming;

/// <summary>
/// One call's stream on one end of a connection: the elements the peer sends (an inbox of
/// one-way messages whose payloads stay lent until consumed) and the credit to send ours (flow
/// control, <see cref="StreamCodec.Window"/> elements per direction). Used by both the
/// client and the server; it knows nothing of element types.
/// </summary>
/// <remarks>
/// Threads: <see cref="Accept"/> runs on the thread that takes the connection's messages; one reader at a time calls
/// <see cref="MoveNextAsync"/>; one writer at a time calls <see cref="SendAsync"/>;
/// <see cref="Close"/> may come from anywhere, once or more.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Close disposes the token source once the stream is over; the semaphore holds no native resource.")]
internal sealed class StreamCore
{
    private readonly RpalConnection _connection;
    private readonly Channel<RpalReceivedMessage> _inbox = Channel.CreateUnbounded<RpalReceivedMessage>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });

    // Credit to send: starts at the window, taken per element, given back by the peer's OpWindow.
    private readonly SemaphoreSlim _credits = new(StreamCodec.Window, int.MaxValue);
    private readonly CancellationTokenSource _closed = new();
    private readonly Lock _grantLock = new();
    private RpalReceivedMessage _current; // owns the element read last until ReleaseCurrent
    private bool _hasCurrent;
    private int _consumed;
    private int _queued; // elements delivered and not read yet
    private Exception? _failure;
    private int _closedFlag;
    private readonly ulong _maxSend;
    private readonly string _limitOption;
    private readonly string _method;
    private SpinPolicy _spin; // the reader's waits for its next element (MoveNextAsync)

    /// <param name="connection">The call's connection.</param>
    /// <param name="callId">The call's id.</param>
    /// <param name="method">The method's full name, for errors.</param>
    /// <param name="maxSend">The largest element body this end sends (<see cref="ulong.MaxValue"/>: no limit).</param>
    /// <param name="limitOption">The option that sets <paramref name="maxSend"/>, for errors.</param>
    public StreamCore(RpalConnection connection, ulong callId, string method = "", ulong maxSend = ulong.MaxValue, string limitOption = "")
    {
        _connection = connection;
        CallId = callId;
        _method = method;
        _maxSend = maxSend;
        _limitOption = limitOption;
    }

    /// <summary>The call this stream belongs to (the id the server's engine gave the call).</summary>
    public ulong CallId { get; }

    /// <summary>
    /// Takes the connection's messages and completions on the calling thread (a client's
    /// ChannelCompletions.Registration.Pump), or null: <see cref="MoveNextAsync"/> then never
    /// spins. With it, a reader that finds no element may spin for the next one, as the engine's
    /// spin policy says (<see cref="SpinPolicy"/>), before it leaves the wait to the completion thread.
    /// </summary>
    public Action? Pump { get; init; }

    /// <summary>True once <see cref="Close"/> ran: nothing more is sent or read.</summary>
    public bool IsClosed => Volatile.Read(ref _closedFlag) != 0;

    /// <summary>Fires when the stream is closed (writers waiting for credit stop).</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>The element read last; valid until the next <see cref="MoveNextAsync"/>.</summary>
    public ref readonly RpalMessage Current => ref _current.Message;

    /// <summary>
    /// A control message from the peer about this stream, routed here by its call id
    /// (<see cref="ControlCodec.TryRead"/>: an element, the end of the peer's elements, or
    /// credit). An element larger than <paramref name="maxReceive"/> is released unread; the
    /// caller fails the call for anything but <see cref="StreamInput.Accepted"/>.
    /// </summary>
    public StreamInput Accept(in RpalMessage message, uint op, ulong maxReceive)
    {
        Debug.Assert(op is ControlCodec.OpStreamMessage or ControlCodec.OpStreamEnd or ControlCodec.OpWindow, "a cancel is the server call's, not its stream's");
        switch (op)
        {
            case ControlCodec.OpStreamMessage:
                var element = new RpalReceivedMessage(_connection, in message);
                if (StreamCodec.PayloadBodySize(in message) > maxReceive)
                {
                    element.Dispose();
                    return StreamInput.TooLarge;
                }

                return Deliver(element) ? StreamInput.Accepted : StreamInput.ProtocolBroken;
            case ControlCodec.OpStreamEnd:
                EndOfInput();
                return StreamInput.Accepted;
            case ControlCodec.OpWindow:
                return Grant(ControlCodec.ReadWindow(in message)) ? StreamInput.Accepted : StreamInput.ProtocolBroken;
            default:
                return StreamInput.Accepted;
        }
    }

    /// <summary>
    /// An element arrived (its payload, if any, is lent until consumed). False when the peer
    /// broke flow control (more than a window unconsumed): the caller fails the call. A stream
    /// already closed releases the element at once.
    /// </summary>
    private bool Deliver(RpalReceivedMessage element)
    {
        if (IsClosed || !_inbox.Writer.TryWrite(element))
        {
            element.Dispose();
            return true;
        }

        if (Interlocked.Increment(ref _queued) > StreamCodec.Window)
        {
            return false; // the reader finds the rest released by Close
        }

        return true;
    }

    /// <summary>The peer sends no more elements.</summary>
    private void EndOfInput() => _inbox.Writer.TryComplete();

    /// <summary>The peer consumed <paramref name="count"/> elements: that much more credit.</summary>
    private bool Grant(ulong count)
    {
        if (count == 0 || count > StreamCodec.Window)
        {
            return false;
        }

        lock (_grantLock)
        {
            // a peer cannot grant more than a window in total: the rest is ignored
            int room = StreamCodec.Window - _credits.CurrentCount;
            if (room > 0 && !IsClosed)
            {
                _credits.Release((int)Math.Min((ulong)room, count));
            }
        }

        return true;
    }

    /// <summary>
    /// Gives back the element read last (its payload and its credit) and waits for the next.
    /// False at the end of the peer's elements. Throws the failure the stream was closed with,
    /// or <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        ReleaseCurrent();
        while (true)
        {
            if (_inbox.Reader.TryRead(out RpalReceivedMessage next))
            {
                Interlocked.Decrement(ref _queued);
                _current = next;
                _hasCurrent = true;
                return true;
            }

            // a reader without a pump never spins: nothing to learn, no clock to read
            long start = Pump is null ? 0 : Stopwatch.GetTimestamp();
            if (Pump is not null && SpinForInput(start))
            {
                continue; // an element, or the end, came while spinning
            }

            bool more = await _inbox.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
            if (Pump is not null)
            {
                _spin.Learn(Stopwatch.GetTimestamp() - start);
            }

            if (!more)
            {
                if (Volatile.Read(ref _failure) is { } failure)
                {
                    throw failure;
                }

                return false;
            }
        }
    }

    /// <summary>
    /// Runs <see cref="Pump"/> until an element is in the inbox or the inbox is complete (true),
    /// or the spin ends (false): when the engine's spin policy says a spin is likely to pay
    /// (<see cref="SpinPolicy"/>; the reader's last wait ended within the budget).
    /// </summary>
    private bool SpinForInput(long start)
    {
        if (_inbox.Reader.Completion.IsCompleted || !_spin.TryBeginSpin(start, out long end))
        {
            return false;
        }

        bool came = false;
        long now;
        try
        {
            do
            {
                Pump!();
                came = _inbox.Reader.TryPeek(out _) || _inbox.Reader.Completion.IsCompleted;
                now = Stopwatch.GetTimestamp();
            }
            while (!came && now < end);
        }
        finally
        {
            SpinPolicy.ExitSpinner();
        }

        if (came)
        {
            _spin.Learn(now - start);
        }

        return came;
    }

    /// <summary>
    /// Sends one element once there is credit; the element's payload is freed if it cannot be
    /// sent. Throws <see cref="OperationCanceledException"/> when the stream closes (the call's
    /// deadline or cancellation closes it) or <paramref name="cancellationToken"/> fires first,
    /// <see cref="RpcException"/> (ResourceExhausted) for an element larger than this end's
    /// send limit; returns the engine's error otherwise.
    /// </summary>
    public async ValueTask<int> SendAsync(RpalOutgoingMessage element, CancellationToken cancellationToken)
    {
        Debug.Assert(ControlCodec.TryRead(in element.Message, out uint op) && op == ControlCodec.OpStreamMessage, "not an element");
        try
        {
            ulong size = StreamCodec.PayloadBodySize(in element.Message);
            if (size > _maxSend)
            {
                RpalLimits.ThrowTooLargeToSend("stream element", _method, size, _maxSend, _limitOption);
            }

            if (!_credits.Wait(0, CancellationToken.None))
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
                await _credits.WaitAsync(linked.Token).ConfigureAwait(false);
            }

            if (IsClosed)
            {
                throw new OperationCanceledException(_closed.Token);
            }
        }
        catch
        {
            element.Dispose();
            throw;
        }

        // Never blocks the thread (a server's receiver thread, often): a peer that takes nothing
        // (stopped, or slow) makes this stream wait, not the receiver and its other clients.
        element.Message.Flags = RpalMessage.DontWait;
        int rc = _connection.Send(ref element); // taken: the engine's (freed by it when the connection failed)
        if (rc != -RpalErrno.EAGAIN)
        {
            element.Dispose(); // refused (-EINVAL, -EBADF): still ours to free
            return rc;
        }

        using var sendLinked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        return await _connection.SendAsync(element.Detach(), sendLinked.Token).ConfigureAwait(false); // takes the payload, frees it when cancelled
    }

    /// <summary>
    /// Sends a control message that takes no credit (the response headers) in order with the
    /// elements: waits for ring room as an element does, never blocking the thread. Frees its
    /// payload and throws <see cref="OperationCanceledException"/> when the stream closes or
    /// <paramref name="cancellationToken"/> fires first; returns the engine's result otherwise.
    /// </summary>
    public async ValueTask<int> SendInOrderAsync(RpalOutgoingMessage message, CancellationToken cancellationToken)
    {
        if (IsClosed)
        {
            message.Dispose();
            throw new OperationCanceledException(_closed.Token);
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        return await _connection.SendAsync(message.Detach(), linked.Token).ConfigureAwait(false); // takes the payload, frees it when cancelled
    }

    /// <summary>
    /// Tells the peer that no more elements follow (sent when the ring has room, without
    /// blocking: every element before it was sent already). Returns the engine's result.
    /// </summary>
    public int SendEnd()
    {
        RpalMessage end = ControlCodec.StreamEnd(CallId);
        return _connection.Post(in end);
    }

    /// <summary>
    /// Ends the stream: writers stop, readers see the end (or <paramref name="failure"/>), and
    /// every element not consumed yet is released. Idempotent.
    /// </summary>
    public void Close(Exception? failure)
    {
        if (Interlocked.Exchange(ref _closedFlag, 1) != 0)
        {
            return;
        }

        if (failure is not null)
        {
            Volatile.Write(ref _failure, failure);
        }

        _inbox.Writer.TryComplete(failure);
        while (_inbox.Reader.TryRead(out RpalReceivedMessage left))
        {
            left.Dispose();
        }

        try
        {
            _closed.Cancel();
        }
        catch (AggregateException)
        {
            // a writer's continuation threw: it is that writer's business
        }
    }

    /// <summary>Releases the element read last; gives credit back in batches.</summary>
    public void ReleaseCurrent()
    {
        if (!_hasCurrent)
        {
            return;
        }

        _hasCurrent = false;
        _current.Dispose();
        _current = default;
        if (++_consumed >= StreamCodec.WindowUpdate && !IsClosed)
        {
            RpalMessage window = ControlCodec.Window(CallId, _consumed);
            _consumed = 0;
            _connection.Post(in window); // the peer being gone ends the call elsewhere
        }
    }

    /// <summary>The status of a call whose peer broke the stream protocol (flow control).</summary>
    public static RpcException ProtocolBroken(string who) =>
        new(new Status(StatusCode.Internal, $"The {who} broke the stream's flow control: more than {StreamCodec.Window} elements unconsumed, or a malformed window."));

}
