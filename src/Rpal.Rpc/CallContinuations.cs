using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace Rpal.Rpc;

/// <summary>
/// Where the code after an <c>await</c> of a client call runs when the awaiting code has no
/// scheduling context: on the thread pool, as everywhere in .NET, unless the pool is starved.
/// Each continuation is queued here and a pool work item is queued to take one; a continuation
/// that no pool thread took within <see cref="RescueAfter"/> is run by the client's completion
/// receiver (<c>rpal-client</c>) instead, whose blocked threads are taken over like any
/// receiver's. So an awaited call ends (and its deadline fails it) on time with every pool
/// thread blocked, and a healthy pool sees no difference.
/// </summary>
internal static class CallContinuations
{
    /// <summary>How long a continuation may wait for a pool thread before the completion receiver runs it.</summary>
    internal static TimeSpan RescueAfter => TimeSpan.FromMilliseconds(20);

    private static readonly long s_rescueTicks = (long)(RescueAfter.TotalSeconds * Stopwatch.Frequency);
    private static readonly ConcurrentQueue<Item> s_queue = new();
    private static readonly PoolWorker s_worker = new();
    private static readonly RescueCheck s_check = new();
    private static int s_checkArmed;
    private static long s_rescued;

    /// <summary>Continuations the completion receiver ran because the pool did not take them in time.</summary>
    internal static long Rescued => Interlocked.Read(ref s_rescued);

    /// <summary>Runs <paramref name="continuation"/> on the pool (or, when the pool is starved, on the completion receiver).</summary>
    public static void Post(Action<object?> continuation, object? state, ExecutionContext? context)
    {
        s_queue.Enqueue(new Item(continuation, state, context, Stopwatch.GetTimestamp()));
        ThreadPool.UnsafeQueueUserWorkItem(s_worker, preferLocal: false);
        if (Interlocked.CompareExchange(ref s_checkArmed, 1, 0) == 0)
        {
            DeadlineTimer.Schedule(s_check, Stopwatch.GetTimestamp() + s_rescueTicks);
        }
    }

    private static void Run(in Item item)
    {
        if (item.Context is null)
        {
            item.Continuation(item.State);
        }
        else
        {
            ExecutionContext.Run(item.Context, static s => ((Item)s!).Continuation(((Item)s!).State), item); // boxes: rare (the flag is unusual)
        }
    }

    private readonly record struct Item(Action<object?> Continuation, object? State, ExecutionContext? Context, long QueuedAt);

    /// <summary>One pool work item per continuation; each takes the oldest one still queued.</summary>
    private sealed class PoolWorker : IThreadPoolWorkItem
    {
        public void Execute()
        {
            if (s_queue.TryDequeue(out Item item))
            {
                Run(item);
            }
        }
    }

    /// <summary>On the deadline thread, while continuations are queued: moves those that waited too long to the completion receiver.</summary>
    private sealed class RescueCheck : DeadlineTimer.Entry
    {
        protected internal override void Fire()
        {
            Volatile.Write(ref s_checkArmed, 0);
            long now = Stopwatch.GetTimestamp();
            while (s_queue.TryPeek(out Item oldest) && now - oldest.QueuedAt >= s_rescueTicks && s_queue.TryDequeue(out Item item))
            {
                Interlocked.Increment(ref s_rescued);
                ChannelCompletions.Shared.Post(static s => Run((Item)s!), item);
            }

            if (s_queue.TryPeek(out Item next) && Interlocked.CompareExchange(ref s_checkArmed, 1, 0) == 0)
            {
                DeadlineTimer.Schedule(this, next.QueuedAt + s_rescueTicks);
            }
        }
    }
}

/// <summary>
/// The continuation of an await on a pooled call object: run by <see cref="CallContinuations"/>
/// unless the awaiting code has a scheduling context (a handler's receiver, a UI thread), which
/// then gets it as usual.
/// </summary>
internal struct CallContinuation
{
    private static readonly Action<object?> s_dispatch = static s => ((IDispatch)s!).Dispatch();

    private Action<object?>? _continuation;
    private object? _state;
    private ExecutionContext? _context;

    /// <summary>Something that holds a <see cref="CallContinuation"/> and hands it over when its result is set.</summary>
    internal interface IDispatch
    {
        void Dispatch();
    }

    /// <summary>
    /// Registers the continuation on <paramref name="core"/> (whose continuations run
    /// synchronously): passed through when a scheduling context is to be used, else kept here
    /// and dispatched through <paramref name="owner"/>'s <see cref="IDispatch.Dispatch"/>.
    /// </summary>
    public void OnCompleted<T>(ref ManualResetValueTaskSourceCore<T> core, IDispatch owner, Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0 && HasSchedulingContext())
        {
            core.OnCompleted(continuation, state, token, flags);
            return;
        }

        _continuation = continuation;
        _state = state;
        _context = (flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0 ? ExecutionContext.Capture() : null;
        core.OnCompleted(s_dispatch, owner, token, ValueTaskSourceOnCompletedFlags.None);
    }

    /// <summary>Posts the continuation (call from <see cref="IDispatch.Dispatch"/>): the owner may be reused from then on.</summary>
    public void Post()
    {
        Action<object?> continuation = _continuation!;
        object? state = _state;
        ExecutionContext? context = _context;
        this = default;
        CallContinuations.Post(continuation, state, context);
    }

    private static bool HasSchedulingContext() =>
        (SynchronizationContext.Current is { } context && context.GetType() != typeof(SynchronizationContext))
        || TaskScheduler.Current != TaskScheduler.Default;
}
