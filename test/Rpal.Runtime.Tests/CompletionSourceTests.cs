using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Xunit;

namespace Rpal.Runtime.Tests;

/// <summary>The pooled <see cref="RpalCompletionSource{T}"/>: outcomes, token checks, and no allocation in steady state.</summary>
public sealed class CompletionSourceTests
{
    private const int Warmup = 2000;
    private const int Measured = 10_000;

    // The measured loops use the awaiter pattern that `await` compiles to, not async methods:
    // the test project builds in Debug, where the compiler makes async state machines classes
    // (one allocation per call) instead of structs. Nor do they call Assert (xunit allocates a
    // comparer per Assert.Equal); they count mismatches instead.

    [Fact]
    public void SynchronouslyCompletedCycles_AllocateNothing()
    {
        var cycle = new SyncCycle();
        for (int i = 0; i < Warmup; i++)
        {
            cycle.Run(i);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Measured; i++)
        {
            cycle.Run(i);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(Warmup + Measured, cycle.Completed);
        Assert.Equal(0, cycle.Wrong);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void AsynchronouslyCompletedCycles_AllocateNothing()
    {
        var cycle = new AsyncCycle();
        for (int i = 0; i < Warmup; i++)
        {
            cycle.Run(i);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Measured; i++)
        {
            cycle.Run(i);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(Warmup + Measured, cycle.Completed);
        Assert.Equal(0, cycle.Wrong);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task AStaleTask_FailsItsTokenCheck()
    {
        RpalCompletionSource<string> source = RpalCompletionSource<string>.Rent();
        ValueTask<string> task = source.Task;
        short version = source.Version;
        Assert.True(source.TrySetResult("done"));
        Assert.False(source.TrySetResult("again"));
        Assert.Throws<InvalidOperationException>(() => source.SetException(new InvalidOperationException()));
        Assert.Equal("done", await task);

        // Back in the pool with a new version: the old task is stale.
        Assert.NotEqual(version, source.Version);
        Assert.Throws<InvalidOperationException>(() => task.Result);
        Assert.Throws<InvalidOperationException>(() => RpalCompletionSource<string>.Return(source));
    }

    [Fact]
    public async Task Exceptions_ReachTheAwaiter_AndTheSourceStillGoesBack()
    {
        RpalCompletionSource<int> source = RpalCompletionSource<int>.Rent();
        ValueTask<int> task = source.Task;
        source.SetException(new FormatException("bad"));
        FormatException e = await Assert.ThrowsAsync<FormatException>(async () => await task);
        Assert.Equal("bad", e.Message);
        Assert.Throws<InvalidOperationException>(() => RpalCompletionSource<int>.Return(source)); // already back
    }

    [Fact]
    public void ASourceNeverAwaited_IsReturnedByHand_AndRentedAgain()
    {
        RpalCompletionSource<long> source = RpalCompletionSource<long>.Rent();
        short version = source.Version;
        RpalCompletionSource<long>.Return(source);
        RpalCompletionSource<long> again = RpalCompletionSource<long>.Rent();
        Assert.Same(source, again); // the per-thread slot
        Assert.NotEqual(version, again.Version);
        Assert.Equal(ValueTaskSourceStatus.Pending, again.GetStatus(again.Version));
        RpalCompletionSource<long>.Return(again);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunContinuationsAsynchronously_DecidesWhetherSetResultRunsTheContinuation(bool asynchronously)
    {
        using var insideSetResult = new ThreadLocal<bool>();
        RpalCompletionSource<int> source = RpalCompletionSource<int>.Rent();
        source.RunContinuationsAsynchronously = asynchronously;
        ValueTask<int> task = source.Task;
        var ranInline = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = ContinueAsync();
        async Task ContinueAsync()
        {
            await task.ConfigureAwait(false);
            ranInline.SetResult(insideSetResult.Value);
        }

        await Task.Run(() =>
        {
            insideSetResult.Value = true;
            source.SetResult(1);
            insideSetResult.Value = false;
        });
        Assert.Equal(!asynchronously, await ranInline.Task.WaitAsync(TimeSpan.FromSeconds(30)));

        // The pool hands sources out again with the default.
        RpalCompletionSource<int> again = RpalCompletionSource<int>.Rent();
        Assert.False(again.RunContinuationsAsynchronously);
        RpalCompletionSource<int>.Return(again);
    }

    [Fact]
    public async Task ManyThreads_RentingAndCompleting_EachGetTheirOwnResult()
    {
        await Parallel.ForAsync(0, 8, async (t, _) =>
        {
            for (int i = 0; i < 2000; i++)
            {
                RpalCompletionSource<int> source = RpalCompletionSource<int>.Rent();
                ValueTask<int> task = source.Task;
                int expected = (t * 1_000_000) + i;
                ThreadPool.UnsafeQueueUserWorkItem(s => s.Source.SetResult(s.Value), (Source: source, Value: expected), preferLocal: false);
                Assert.Equal(expected, await task);
            }
        });
    }

    /// <summary>
    /// One operation completed before it is awaited: rent, complete, then what <c>await</c> does
    /// with a completed task (IsCompleted, GetResult, which returns the source to the pool).
    /// </summary>
    private sealed class SyncCycle
    {
        public int Completed { get; private set; }

        public int Wrong { get; private set; }

        public void Run(int value)
        {
            RpalCompletionSource<int> source = RpalCompletionSource<int>.Rent();
            source.SetResult(value);
            ValueTaskAwaiter<int> awaiter = source.Task.GetAwaiter();
            if (!awaiter.IsCompleted || awaiter.GetResult() != value)
            {
                Wrong++;
            }

            Completed++;
        }
    }

    /// <summary>
    /// One operation completed after its awaiter registered: rent, register a continuation (as
    /// <c>await</c> does when the task is not complete), complete, and the continuation reads the
    /// result (returning the source to the pool). No async state machine, so only the source's
    /// own cost is measured.
    /// </summary>
    private sealed class AsyncCycle
    {
        private readonly Action _continuation;
        private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _awaiter;
        private int _expected;

        public AsyncCycle() => _continuation = OnCompleted;

        public int Completed { get; private set; }

        public int Wrong { get; private set; }

        public void Run(int value)
        {
            RpalCompletionSource<int> source = RpalCompletionSource<int>.Rent();
            _awaiter = source.Task.ConfigureAwait(false).GetAwaiter();
            if (_awaiter.IsCompleted)
            {
                Wrong++;
            }

            _expected = value;
            _awaiter.OnCompleted(_continuation);
            source.SetResult(value); // the continuation runs inline
        }

        private void OnCompleted()
        {
            if (_awaiter.GetResult() != _expected)
            {
                Wrong++;
            }

            Completed++;
        }
    }
}
