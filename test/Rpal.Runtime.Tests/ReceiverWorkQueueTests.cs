using System.Collections.Concurrent;
using Xunit;

namespace Rpal.Runtime.Tests;

/// <summary>The receiver's thread, its work queue, its wake-up, exceptions, and stopping.</summary>
public sealed class ReceiverWorkQueueTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Post_RunsOnTheReceiversNamedThread()
    {
        using var receiver = new RpalReceiver(new NoEvents());
        Assert.StartsWith("rpal-receiver-", receiver.Name, StringComparison.Ordinal);
        Assert.False(receiver.IsCurrentThread);
        Assert.Null(RpalReceiver.Current);

        var seen = new TaskCompletionSource<(string? Name, bool IsCurrent, RpalReceiver? Current, SynchronizationContext? Context)>(
            TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Post(
            _ => seen.SetResult((Thread.CurrentThread.Name, receiver.IsCurrentThread, RpalReceiver.Current, SynchronizationContext.Current)),
            null);
        var (name, isCurrent, current, context) = await seen.Task.WaitAsync(s_timeout);

        Assert.Equal(receiver.Name, name);
        Assert.True(isCurrent);
        Assert.Same(receiver, current);
        Assert.Same(receiver.SynchronizationContext, context);
    }

    [Fact]
    public async Task Post_FromManyThreads_RunsEverything_InOrderPerThread()
    {
        using var receiver = new RpalReceiver(new NoEvents());
        const int Threads = 4;
        const int PerThread = 5000;
        var last = new int[Threads];
        int outOfOrder = 0;
        int ran = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Parallel.For(0, Threads, t =>
        {
            for (int i = 1; i <= PerThread; i++)
            {
                int value = i;
                receiver.Post(
                    _ =>
                    {
                        // Only the receiver thread touches these: no synchronisation needed.
                        if (last[t] != value - 1)
                        {
                            outOfOrder++;
                        }

                        last[t] = value;
                        if (++ran == Threads * PerThread)
                        {
                            done.SetResult();
                        }
                    },
                    null);
            }
        });

        await done.Task.WaitAsync(s_timeout);
        Assert.Equal(0, outOfOrder);
    }

    [Fact]
    public async Task Post_WakesAParkedReceiver_OnceAndOnlyWhenParked()
    {
        using var receiver = new RpalReceiver(new NoEvents());
        // With nothing to do it parks (100 ms at a time); a post then wakes it through the
        // eventfd. A wait may time out just as we post, so allow a few tries.
        bool woken = false;
        long wakes;
        for (int attempt = 0; attempt < 5 && !woken; attempt++)
        {
            await WaitUntilAsync(() => receiver.IsParked);
            wakes = receiver.WakeCount;
            var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            receiver.Post(_ => ran.SetResult(), null);
            await ran.Task.WaitAsync(s_timeout);
            woken = receiver.WakeCount == wakes + 1;
        }

        Assert.True(woken, "a post to a parked receiver did not wake it through the eventfd");

        // A busy receiver costs posters no wake-up: hold it in a work item, post from here.
        using var hold = new ManualResetEventSlim();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Post(_ => { holding.SetResult(); hold.Wait(); }, null);
        await holding.Task.WaitAsync(s_timeout);
        wakes = receiver.WakeCount;
        int count = 0;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        for (int i = 0; i < 1000; i++)
        {
            receiver.Post(_ => { if (++count == 1000) all.SetResult(); }, null);
        }

        Assert.Equal(wakes, receiver.WakeCount);
        hold.Set();
        await all.Task.WaitAsync(s_timeout);

        // Posts from the receiver's own thread never wake it.
        wakes = receiver.WakeCount;
        var inner = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Post(_ => receiver.Post(_ => inner.SetResult(), null), null);
        await inner.Task.WaitAsync(s_timeout);
        Assert.InRange(receiver.WakeCount, wakes, wakes + 1); // the outer post may find it parked
    }

    [Fact]
    public async Task ExceptionsInPostedWork_AreReported_AndTheReceiverGoesOn()
    {
        using var receiver = new RpalReceiver(new NoEvents());
        var reported = new ConcurrentQueue<(Exception Error, bool OnReceiver)>();
        receiver.UnhandledException += (_, e) => reported.Enqueue(((Exception)e.ExceptionObject, receiver.IsCurrentThread));

        receiver.Post(_ => throw new InvalidOperationException("first"), null);
        receiver.SynchronizationContext.Post(_ => throw new FormatException("second"), null);
        var after = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Post(_ => after.SetResult(), null);
        await after.Task.WaitAsync(s_timeout);

        Assert.Collection(
            reported,
            r => Assert.True(r.Error is InvalidOperationException { Message: "first" } && r.OnReceiver),
            r => Assert.True(r.Error is FormatException { Message: "second" } && r.OnReceiver));
        Assert.True(receiver.IsRunning);
    }

    [Fact]
    public async Task Stop_EndsTheThreadPromptly_AndLaterWorkRunsOnThePool()
    {
        var receiver = new RpalReceiver(new NoEvents());
        var queued = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var hold = new ManualResetEventSlim())
        {
            receiver.Post(_ => hold.Wait(), null);
            receiver.Post(_ => queued.SetResult(receiver.IsCurrentThread), null);
            Task<bool> stopping = Task.Run(() => receiver.Stop(s_timeout));
            await WaitUntilAsync(() => !receiver.IsRunning);
            hold.Set();
            Assert.True(await stopping.WaitAsync(s_timeout));
        }

        Assert.True(await queued.Task.WaitAsync(s_timeout)); // queued before Stop: ran on the receiver
        Assert.False(receiver.IsRunning);
        Assert.True(receiver.Stop(TimeSpan.Zero));

        var later = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Post(_ => later.SetResult(Thread.CurrentThread.IsThreadPoolThread), null);
        Assert.True(await later.Task.WaitAsync(s_timeout));
        receiver.Dispose();
    }

    [Fact]
    public async Task Stop_FromTheReceiversOwnThread_DoesNotWaitForItself()
    {
        using var receiver = new RpalReceiver(new NoEvents(), "self-stopper");
        Assert.Equal("self-stopper", receiver.Name);
        var result = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Post(_ => result.SetResult(receiver.Stop(s_timeout)), null);
        Assert.False(await result.Task.WaitAsync(s_timeout));
        Assert.True(receiver.Stop(s_timeout));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(s_timeout);
        while (!condition())
        {
            await Task.Yield();
            deadline.Token.ThrowIfCancellationRequested();
        }
    }
}
