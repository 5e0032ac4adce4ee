using Xunit;

namespace Rpal.Runtime.Tests;

/// <summary>
/// Code running on a receiver continues on it after an <c>await</c>: the design's fiber-style
/// handlers.
/// </summary>
public sealed class ReceiverSynchronizationContextTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AsyncMethodStartedOnTheReceiver_ContinuesOnIt_AfterYieldAndAfterAForeignCompletion()
    {
        using var receiver = new RpalReceiver(new NoEvents());
        var fromElsewhere = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var threads = new List<int>();
        Task? handler = null;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Post(
            _ =>
            {
                handler = HandleAsync();
                started.SetResult();
            },
            null);
        await started.Task.WaitAsync(s_timeout);

        async Task HandleAsync()
        {
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Yield();
            threads.Add(Environment.CurrentManagedThreadId);
            int value = await fromElsewhere.Task;
            Assert.Equal(5, value);
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Delay(1);
            threads.Add(Environment.CurrentManagedThreadId);
        }

        // Completed from a pool thread: the continuation is posted back to the receiver.
        await Task.Run(() => fromElsewhere.SetResult(5));
        await handler!.WaitAsync(s_timeout);

        Assert.Equal(4, threads.Count);
        Assert.All(threads, id => Assert.Equal(receiver.ManagedThreadId, id));
    }

    [Fact]
    public async Task Send_FromAnotherThread_RunsOnTheReceiver_AndRethrows()
    {
        using var receiver = new RpalReceiver(new NoEvents());
        int ranOn = 0;
        receiver.SynchronizationContext.Send(_ => ranOn = Environment.CurrentManagedThreadId, null);
        Assert.Equal(receiver.ManagedThreadId, ranOn);

        var e = Assert.Throws<ArgumentException>(
            () => receiver.SynchronizationContext.Send(_ => throw new ArgumentException("inside"), null));
        Assert.Equal("inside", e.Message);

        // On the receiver itself, Send runs inline.
        var inline = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Post(
            _ =>
            {
                bool ran = false;
                receiver.SynchronizationContext.Send(_ => ran = true, null);
                inline.SetResult(ran);
            },
            null);
        Assert.True(await inline.Task.WaitAsync(s_timeout));
        Assert.Same(receiver.SynchronizationContext, receiver.SynchronizationContext.CreateCopy());
    }
}
