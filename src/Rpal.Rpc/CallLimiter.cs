using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Grpc.Core;
using Rpal.Rpc.Generated;

namespace Rpal.Rpc;

/// <summary>
/// A channel's calls in flight (RpalChannelOptions.MaxConcurrentCalls): a slot is taken before
/// the submit and given back when the engine's completion arrives (or the submit fails).
/// </summary>
/// <remarks>
/// Fast path: a compare-and-swap on <see cref="_count"/>, no lock and no allocation. Slow path:
/// a waiter announces itself in <see cref="_waiters"/>, tries again, then waits on
/// <see cref="_freed"/>; <see cref="Exit"/> signals it when anyone waits. No wake-up is lost:
/// both counters change through interlocked (fully ordered) operations, so either the waiter's
/// retry sees the freed slot, or the exiting caller sees the waiter and signals. A signal
/// nobody needed only costs a waiter one more try. Waiters are not served in order.
/// </remarks>
[SuppressMessage("Design", "CA1001", Justification = "The semaphore holds no native resource until AvailableWaitHandle is used, which it never is.")]
internal sealed class CallLimiter
{
    private readonly int _max;
    private readonly bool _wait;
    private readonly SemaphoreSlim _freed = new(0, int.MaxValue);

    // Calls holding a slot. Written by callers (TryEnter) and completions (Exit), interlocked.
    private int _count;

    // Callers on the slow path. Interlocked; read by Exit to decide whether to signal.
    private int _waiters;

    public CallLimiter(int max, RpalCallLimitBehavior behavior)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max, "options.MaxConcurrentCalls");
        _max = max == 0 ? int.MaxValue : max;
        _wait = behavior == RpalCallLimitBehavior.Wait;
    }

    /// <summary>Calls holding a slot now.</summary>
    public int InFlight => Volatile.Read(ref _count);

    /// <summary>Takes a slot if one is free, without waiting.</summary>
    public bool TryEnter()
    {
        int count = Volatile.Read(ref _count);
        while (count < _max)
        {
            int seen = Interlocked.CompareExchange(ref _count, count + 1, count);
            if (seen == count)
            {
                return true;
            }

            count = seen;
        }

        return false;
    }

    /// <summary>Gives a slot back.</summary>
    public void Exit()
    {
        int left = Interlocked.Decrement(ref _count);
        Debug.Assert(left >= 0, "a slot given back twice");
        if (Volatile.Read(ref _waiters) != 0)
        {
            _freed.Release();
        }
    }

    /// <summary>
    /// Takes a slot, blocking until one is free or <paramref name="deadline"/> (a Stopwatch
    /// timestamp, 0 for none) passes or <paramref name="cancellationToken"/> fires; throws
    /// <see cref="RpcException"/> (ResourceExhausted in fail mode, DeadlineExceeded, Cancelled).
    /// The slow path of a blocking call.
    /// </summary>
    public void Enter(long deadline, RpalMethod method, CancellationToken cancellationToken)
    {
        if (!_wait)
        {
            ThrowFull(method);
        }

        Interlocked.Increment(ref _waiters);
        try
        {
            while (!TryEnter())
            {
                int timeoutMs = TimeoutMs(deadline);
                bool signalled;
                try
                {
                    signalled = timeoutMs != 0 && _freed.Wait(timeoutMs, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw Cancelled();
                }

                if (!signalled)
                {
                    throw DeadlineExceeded();
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiters);
        }
    }

    /// <summary>
    /// Takes a slot, waiting until one is free, <paramref name="deadline"/> passes (DeadlineExceeded)
    /// or <paramref name="cancellationToken"/> fires (Cancelled). The slow path of every other call.
    /// </summary>
    public async ValueTask EnterAsync(long deadline, RpalMethod method, CancellationToken cancellationToken)
    {
        if (!_wait)
        {
            ThrowFull(method);
        }

        Interlocked.Increment(ref _waiters);
        try
        {
            while (!TryEnter())
            {
                int timeoutMs = TimeoutMs(deadline);
                bool signalled;
                try
                {
                    signalled = timeoutMs != 0 && await _freed.WaitAsync(timeoutMs, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw Cancelled();
                }

                if (!signalled)
                {
                    throw DeadlineExceeded();
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiters);
        }
    }

    private static RpcException Cancelled() => new(new Status(StatusCode.Cancelled, "Cancelled"));

    private static RpcException DeadlineExceeded() => new(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"));

    /// <summary>Milliseconds left to <paramref name="deadline"/>: -1 for none, 0 when past.</summary>
    private static int TimeoutMs(long deadline)
    {
        if (deadline == 0)
        {
            return -1;
        }

        double left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline).TotalMilliseconds;
        return left <= 0 ? 0 : (int)Math.Min(Math.Ceiling(left), int.MaxValue - 1);
    }

    [DoesNotReturn]
    private void ThrowFull(RpalMethod method) =>
        throw new RpcException(new Status(StatusCode.ResourceExhausted,
            $"{method.FullName}: the channel already has {_max} calls in flight (RpalChannelOptions.MaxConcurrentCalls; RpalChannelOptions.CallLimitBehavior is Fail)."));
}
