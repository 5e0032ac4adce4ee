using System.Collections.Concurrent;

namespace Rpal.Runtime.Tests;

/// <summary>
/// A client-side receiver handler, as the RPC layer would write one: submitted calls complete
/// their tasks when their replies arrive (the RPC layer pools its pending calls: PendingCall in src/Rpal.Rpc; a test need not).
/// </summary>
internal sealed class CompletionRouter : IRpalReceiverHandler
{
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<RpalCompletion>> _pending = new();
    private long _nextUserData;
    private int _throwOnce;
    private int _hangups;

    /// <summary>Completes when the connection reports <see cref="RpalEpollEvents.RpalHangup"/>.</summary>
    public TaskCompletionSource Hangup { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many times <see cref="RpalEpollEvents.RpalHangup"/> was reported.</summary>
    public int Hangups => Volatile.Read(ref _hangups);

    /// <summary>The receiver thread's managed id, as seen by the handler.</summary>
    public int HandlerThreadId { get; private set; }

    /// <summary>Makes the next <see cref="OnEvents"/> throw before it does anything.</summary>
    public void ThrowOnce() => Volatile.Write(ref _throwOnce, 1);

    /// <summary>Submits a call; the task completes on the receiver thread with its completion.</summary>
    public ValueTask<RpalCompletion> Submit(RpalConnection connection, in RpalMessage request)
    {
        ulong userData = (ulong)Interlocked.Increment(ref _nextUserData);
        var source = new TaskCompletionSource<RpalCompletion>(TaskCreationOptions.RunContinuationsAsynchronously); // test code must not run on the receiver
        _pending[userData] = source; // before Submit: the reply may come before it returns
        int rc = connection.Submit(request, userData, out _);
        if (rc < 0)
        {
            _pending.TryRemove(userData, out _);
            throw new RpalException(rc, "rpal_call_submit");
        }

        return new ValueTask<RpalCompletion>(source.Task);
    }

    public void OnEvents(RpalConnection connection, ulong token, uint events)
    {
        HandlerThreadId = Environment.CurrentManagedThreadId;
        if (Interlocked.Exchange(ref _throwOnce, 0) == 1)
        {
            throw new InvalidOperationException("thrown by the handler on purpose");
        }

        if ((events & RpalEpollEvents.RpalReply) != 0)
        {
            while (connection.Complete(out RpalCompletion completion) == 0)
            {
                if (_pending.TryRemove(completion.UserData, out TaskCompletionSource<RpalCompletion>? source))
                {
                    source.TrySetResult(completion);
                }
            }
        }

        if ((events & RpalEpollEvents.RpalHangup) != 0)
        {
            Interlocked.Increment(ref _hangups);
            Hangup.TrySetResult();
        }
    }
}
