using Rpal.Runtime.Interop;

namespace Rpal.Runtime;

/// <summary>Sending without blocking a thread: waiting for ring room and call slots asynchronously.</summary>
public sealed partial class RpalConnection
{
    /// <summary>
    /// How long a sender waiting for room waits for the receiver's report before it looks again
    /// by itself: the report comes from the receiver that holds the connection, and a connection
    /// in no receiver (or one whose receiver is busy) must not leave its senders waiting forever.
    /// </summary>
    private static readonly TimeSpan s_roomLookInterval = TimeSpan.FromMilliseconds(50);

    // Completed (and cleared) by OnRoom: the receiver saw RpalOut or the connection's end. Taken
    // by a sender before it tries, so a report between its try and its wait is not lost.
    private TaskCompletionSource? _room;

    /// <summary>
    /// A task that completes at the next report of room on this connection (after an operation
    /// with <see cref="RpalMessage.DontWait"/> failed with -EAGAIN; the connection's
    /// <see cref="RpalReceiver"/> delivers it), at the connection's end, or after a short interval
    /// at the latest, so that the caller looks again; it throws
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.
    /// Take it before the operation that may fail with -EAGAIN, await it after the failure, then
    /// try again: a report that comes in between is not lost.
    /// </summary>
    public Task WaitForRoomAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource? room = Volatile.Read(ref _room);
        if (room is null)
        {
            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            room = Interlocked.CompareExchange(ref _room, fresh, null) ?? fresh;
        }

        return room.Task.IsCompleted ? room.Task : WaitForRoomSlowAsync(room.Task, cancellationToken);
    }

    private static async Task WaitForRoomSlowAsync(Task room, CancellationToken cancellationToken)
    {
        await Task.WhenAny(room, Task.Delay(s_roomLookInterval, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>The receiver saw room (RpalOut) or the connection's end: senders try again.</summary>
    internal void OnRoom() => Interlocked.Exchange(ref _room, null)?.TrySetResult();

    /// <summary>
    /// Sends a one-way message without ever blocking the calling thread: when the ring is full it
    /// waits asynchronously for room, until <paramref name="cancellationToken"/> fires (the
    /// payload is then freed and <see cref="OperationCanceledException"/> thrown). Returns what
    /// <see cref="Send(in RpalMessage)"/> returns otherwise. Takes the payload in every case: once
    /// this returns or throws, it is the engine's or freed (a message refused, -EINVAL or -EBADF,
    /// is freed as <see cref="RpalOutgoingMessage.Dispose"/> frees it).
    /// </summary>
    public ValueTask<int> SendAsync(RpalMessage message, CancellationToken cancellationToken = default)
    {
        var owned = new RpalOutgoingMessage(in message);
        owned.Message.Flags |= RpalMessage.DontWait;
        int rc = Send(ref owned);
        if (rc == -RpalErrno.EAGAIN)
        {
            return new ValueTask<int>(SendWhenRoomAsync(owned, cancellationToken));
        }

        owned.Dispose(); // refused: nobody else will free it
        return new ValueTask<int>(rc);
    }

    /// <summary>
    /// Sends a one-way message that must not be lost and must not block: sent now when the ring
    /// has room, else sent in the background as soon as it has (or dropped with its payload when
    /// the connection ends first). For control messages whose order does not matter (credit,
    /// cancellation, the end of a stream whose elements were all sent). Returns 0 (sent or
    /// queued) or <see cref="Send(in RpalMessage)"/>'s error.
    /// </summary>
    public int Post(in RpalMessage message)
    {
        RpalMessage m = message;
        m.Flags |= RpalMessage.DontWait;
        int rc = Send(in m);
        if (rc == -RpalErrno.EAGAIN)
        {
            _ = SendWhenRoomAsync(new RpalOutgoingMessage(in m), CancellationToken.None);
            rc = 0;
        }

        return rc;
    }

    private async Task<int> SendWhenRoomAsync(RpalOutgoingMessage message, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                Task room = WaitForRoomAsync(cancellationToken);
                int rc = Send(ref message);
                if (rc != -RpalErrno.EAGAIN)
                {
                    return rc;
                }

                await room.ConfigureAwait(false);
            }
        }
        finally
        {
            message.Dispose(); // not sent (cancelled, or refused): frees it; sent: owns nothing
        }
    }

    /// <summary>
    /// A blocking call its caller may give up (rpal_call_submit_wait): waits as <see cref="Call(in RpalMessage, out RpalMessage, int)"/>
    /// does, up to <paramref name="timeoutMs"/> (below 0: forever). Returns 1 when the reply came:
    /// <paramref name="completion"/> holds it; 0 when the timeout passed first: the call goes on
    /// as a submitted call whose completion, tagged <paramref name="userData"/>, comes through
    /// <see cref="Complete"/> (the late reply, or the connection's end), so the caller knows when
    /// the engine no longer counts it; -ETIMEDOUT when it could not even be sent in time (no
    /// call slot or ring room; the payload is freed, no completion follows); or
    /// <see cref="Submit(in RpalMessage, ulong, out ulong)"/>'s errors.
    /// </summary>
    public unsafe int CallOrSubmit(in RpalMessage request, ulong userData, int timeoutMs, out ulong callId, out RpalCompletion completion)
    {
        ulong id = 0;
        completion = default;
        int rc = Enter(out nint conn);
        if (rc == 0)
        {
            fixed (RpalMessage* req = &request)
            fixed (RpalCompletion* done = &completion)
            {
                rc = NativeMethods.rpal_call_submit_wait(conn, req, userData, timeoutMs, &id, done);
            }

            _handle.DangerousRelease();
        }

        callId = id;
        return rc;
    }
}
