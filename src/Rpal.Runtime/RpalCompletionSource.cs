using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Tasks.Sources;

namespace Rpal.Runtime;

/// <summary>
/// A pooled, reusable source of <see cref="ValueTask{TResult}"/>s, built on
/// <see cref="ManualResetValueTaskSourceCore{TResult}"/>: rent one per asynchronous operation,
/// hand out <see cref="Task"/>, complete it with <see cref="TrySetResult"/> (typically on a
/// receiver thread), and the awaiter's <c>GetResult</c> returns it to the pool. A steady stream
/// of operations allocates nothing.
/// </summary>
/// <typeparam name="T">The result type.</typeparam>
/// <remarks>
/// <para>
/// Life cycle: <see cref="Rent"/> → <see cref="Task"/> (or <see cref="AsValueTask"/>) handed to
/// one awaiter → <see cref="TrySetResult"/> or <see cref="TrySetException"/> → the awaiter's
/// <c>GetResult</c> reads the outcome and returns the source to the pool. A source whose task is
/// never handed out (the operation failed before it started) is given back with
/// <see cref="Return"/>. As for any <see cref="ValueTask{TResult}"/>, await the task once; a
/// stale task (its <see cref="Version"/> no longer current) throws
/// <see cref="InvalidOperationException"/>.
/// </para>
/// <para>
/// The pool keeps one source per thread and up to 1024 shared ones per type argument; beyond
/// that, returned sources are left to the garbage collector.
/// </para>
/// </remarks>
public sealed class RpalCompletionSource<T> : IValueTaskSource<T>, IValueTaskSource
{
    private const int MaxShared = 1024;

    private const int StateIdle = 0;      // rented, not completed
    private const int StateCompleted = 1; // completed, result not read yet
    private const int StatePooled = 2;    // in the pool

    [ThreadStatic]
    private static RpalCompletionSource<T>? s_cached;

    private static readonly ConcurrentQueue<RpalCompletionSource<T>> s_shared = new();
    private static int s_sharedCount;

    private ManualResetValueTaskSourceCore<T> _core;
    private int _state;

    private RpalCompletionSource()
    {
    }

    /// <summary>The token of the current operation: what <see cref="Task"/> carries.</summary>
    public short Version => _core.Version;

    /// <summary>
    /// Whether continuations run on the thread pool (true) or inline in the thread that completes
    /// the source (false, the default: on a receiver thread that means the continuation runs on
    /// the receiver). Reset to false when the source goes back to the pool.
    /// </summary>
    public bool RunContinuationsAsynchronously
    {
        get => _core.RunContinuationsAsynchronously;
        set => _core.RunContinuationsAsynchronously = value;
    }

    /// <summary>The task of the current operation.</summary>
    public ValueTask<T> Task => new(this, _core.Version);

    /// <summary>Takes a source from the pool (or makes one), ready for a new operation.</summary>
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "The pool is per result type, as ArrayPool<T>.Shared is.")]
    public static RpalCompletionSource<T> Rent()
    {
        RpalCompletionSource<T>? source = s_cached;
        if (source is not null)
        {
            s_cached = null;
        }
        else if (s_shared.TryDequeue(out source))
        {
            Interlocked.Decrement(ref s_sharedCount);
        }
        else
        {
            return new RpalCompletionSource<T>();
        }

        Volatile.Write(ref source._state, StateIdle);
        return source;
    }

    /// <summary>
    /// Gives back a source whose task was never awaited (an awaited one goes back by itself).
    /// Throws <see cref="InvalidOperationException"/> when it is already in the pool.
    /// </summary>
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "The pool is per result type, as ArrayPool<T>.Shared is.")]
    public static void Return(RpalCompletionSource<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        source.ReturnToPool();
    }

    /// <summary>The task of the current operation, without a result type.</summary>
    public ValueTask AsValueTask() => new(this, _core.Version);

    /// <summary>Completes the operation with a result; false when it was already completed.</summary>
    public bool TrySetResult(T result)
    {
        if (Interlocked.CompareExchange(ref _state, StateCompleted, StateIdle) != StateIdle)
        {
            return false;
        }

        // May run the continuation inline, which may return this source to the pool: do not
        // touch the source after this call.
        _core.SetResult(result);
        return true;
    }

    /// <summary>Completes the operation with an exception; false when it was already completed.</summary>
    public bool TrySetException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (Interlocked.CompareExchange(ref _state, StateCompleted, StateIdle) != StateIdle)
        {
            return false;
        }

        _core.SetException(exception);
        return true;
    }

    /// <summary>Completes the operation with a result; throws <see cref="InvalidOperationException"/> when it was already completed.</summary>
    public void SetResult(T result)
    {
        if (!TrySetResult(result))
        {
            throw new InvalidOperationException("The operation was already completed.");
        }
    }

    /// <summary>Completes the operation with an exception; throws <see cref="InvalidOperationException"/> when it was already completed.</summary>
    public void SetException(Exception exception)
    {
        if (!TrySetException(exception))
        {
            throw new InvalidOperationException("The operation was already completed.");
        }
    }

    /// <summary>Reads the outcome of the operation and returns the source to the pool.</summary>
    public T GetResult(short token)
    {
        ValidateToken(token);
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            ReturnToPool();
        }
    }

    /// <inheritdoc/>
    void IValueTaskSource.GetResult(short token) => GetResult(token);

    /// <inheritdoc/>
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    public void OnCompleted(
        Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void ValidateToken(short token)
    {
        if (token != _core.Version)
        {
            throw new InvalidOperationException("The task was already awaited: await a ValueTask once.");
        }
    }

    private void ReturnToPool()
    {
        if (Interlocked.Exchange(ref _state, StatePooled) == StatePooled)
        {
            throw new InvalidOperationException("The source is already in the pool.");
        }

        _core.Reset(); // bumps Version: stale tasks now fail their token check
        _core.RunContinuationsAsynchronously = false;
        if (s_cached is null)
        {
            s_cached = this;
        }
        else if (Interlocked.Increment(ref s_sharedCount) <= MaxShared)
        {
            s_shared.Enqueue(this);
        }
        else
        {
            Interlocked.Decrement(ref s_sharedCount);
        }
    }
}
