using System.Diagnostics;
using Xunit;

namespace Rpal.Runtime.Tests;

/// <summary>
/// A receiver's loop goes to another thread when a callback blocks its thread past the
/// threshold (RpalReceiver.BlockedCallbackThreshold), and only then: a callback that computes
/// (its thread on a CPU, or waiting for one) keeps the loop, so the receiver's work never runs in
/// parallel with a callback that does not block. Posted work items are callbacks like any other.
/// </summary>
public sealed class ReceiverTakeoverTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AWorkItemThatBlocks_HandsTheLoopToAnotherThread_AndTheNextItemRunsBesideIt()
    {
        using var receiver = new RpalReceiver(new NoEvents());
        using var release = new ManualResetEventSlim();
        var firstThread = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondThread = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Post(_ =>
        {
            firstThread.SetResult(Environment.CurrentManagedThreadId);
            release.Wait(s_timeout); // blocked in the kernel, past the threshold
        }, null);
        receiver.Post(_ => secondThread.SetResult(Environment.CurrentManagedThreadId), null);

        int first = await firstThread.Task.WaitAsync(s_timeout);
        int second = await secondThread.Task.WaitAsync(s_timeout); // while the first still blocks
        Assert.False(release.IsSet);
        Assert.NotEqual(first, second);
        Assert.Equal(1, receiver.Takeovers);
        release.Set();
    }

    [Fact]
    public async Task AWorkItemThatComputesPastTheThreshold_KeepsTheLoop()
    {
        using var receiver = new RpalReceiver(new NoEvents());
        TimeSpan busy = RpalReceiver.BlockedCallbackThreshold * 6;
        int running = 0, overlapped = 0;
        var firstThread = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondThread = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Post(_ =>
        {
            Interlocked.Increment(ref running);
            long start = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(start) < busy)
            {
                // computing: the thread stays runnable (state R) the whole time
            }

            Interlocked.Decrement(ref running);
            firstThread.SetResult(Environment.CurrentManagedThreadId);
        }, null);
        receiver.Post(_ =>
        {
            if (Volatile.Read(ref running) != 0)
            {
                Interlocked.Increment(ref overlapped);
            }

            secondThread.SetResult(Environment.CurrentManagedThreadId);
        }, null);

        int first = await firstThread.Task.WaitAsync(s_timeout);
        int second = await secondThread.Task.WaitAsync(s_timeout);
        Assert.Equal(first, second);
        Assert.Equal(0, overlapped);
        Assert.Equal(0, receiver.Takeovers);
    }
}
