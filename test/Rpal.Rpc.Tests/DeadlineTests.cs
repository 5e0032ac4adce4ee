using System.Diagnostics;
using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>A deadline, per call or from the channel, ends the call with DeadlineExceeded and fires the handler's token.</summary>
[Collection(SharedServerDefinition.Name)]
public sealed class DeadlineTests(SharedServerFixture fixture)
{
    private static readonly TimeSpan s_short = TimeSpan.FromMilliseconds(300);

    private RpalChannel Channel => fixture.Channel(ServiceNames.Cancellation);

    private ICancellationService ClientWithDeadline(TimeSpan fromNow) =>
        Channel.CreateClient<ICancellationService>(new CallOptions(deadline: DateTime.UtcNow + fromNow));

    [Fact]
    public async Task APerCallDeadline_EndsAnAsyncCall_AndFiresTheHandlersToken()
    {
        int tag = Tags.Next();
        long start = Stopwatch.GetTimestamp();
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => ClientWithDeadline(s_short).WaitForCancellationAsync(tag).AsTask());
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);

        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        Assert.InRange(elapsed, s_short - TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10));
        await fixture.Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task APerCallDeadline_EndsATaskCall_AndFiresTheHandlersToken()
    {
        int tag = Tags.Next();
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => ClientWithDeadline(s_short).WaitForCancellationTaskAsync(tag));
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        await fixture.Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task APerCallDeadline_EndsASyncCall_AndFiresTheHandlersToken()
    {
        int tag = Tags.Next();
        ICancellationService client = ClientWithDeadline(s_short);
        RpcException e = Assert.Throws<RpcException>(() => client.BlockUntilCanceled(tag, CancellationToken.None));
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        await fixture.Server.WaitForEventAsync(ServerEvents.TokenFired, tag);

        // the late answer of the expired call does not confuse the next one
        Assert.Equal(1, Channel.CreateClient<ICancellationService>().Ping());
    }

    [Fact]
    public async Task TheChannelsDefaultTimeout_EndsCalls_AndFiresTheHandlersToken()
    {
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(
            ServiceNames.Cancellation, new RpalChannelOptions { DefaultTimeout = s_short });
        ICancellationService client = channel.CreateClient<ICancellationService>();

        int asyncTag = Tags.Next();
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => client.WaitForCancellationAsync(asyncTag).AsTask());
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        await fixture.Server.WaitForEventAsync(ServerEvents.TokenFired, asyncTag);

        int syncTag = Tags.Next();
        e = Assert.Throws<RpcException>(() => client.BlockUntilCanceled(syncTag, CancellationToken.None));
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        await fixture.Server.WaitForEventAsync(ServerEvents.TokenFired, syncTag);
    }

    [Fact]
    public async Task ACallScopeDeadline_EndsTheCallsInTheScope()
    {
        int tag = Tags.Next();
        ICancellationService client = Channel.CreateClient<ICancellationService>();
        using (new RpalCallScope(deadline: DateTime.UtcNow + s_short))
        {
            RpcException e = await Assert.ThrowsAsync<RpcException>(() => client.WaitForCancellationAsync(tag).AsTask());
            Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        }

        await fixture.Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task APerCallDeadline_OverridesTheChannelsDefaultTimeout()
    {
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(
            ServiceNames.Cancellation, new RpalChannelOptions { DefaultTimeout = TimeSpan.FromMilliseconds(100) });
        ICancellationService client = channel.CreateClient<ICancellationService>(new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)));
        Assert.Equal(400, await client.DelayAsync(400));
    }

    [Fact]
    public async Task ACallThatEndsBeforeItsDeadline_Succeeds()
    {
        ICancellationService client = ClientWithDeadline(TimeSpan.FromSeconds(30));
        Assert.Equal(20, await client.DelayAsync(20));
        Assert.Equal(1, client.Ping());
    }

    [Fact]
    public void TheDeadline_ReachesTheHandlersContext()
    {
        long remaining = ClientWithDeadline(TimeSpan.FromSeconds(30)).DeadlineRemainingMilliseconds();
        Assert.InRange(remaining, 20_000, 30_000);
        Assert.Equal(-1, Channel.CreateClient<ICancellationService>().DeadlineRemainingMilliseconds());
    }

    [Fact]
    public async Task ADeadlineFartherThanATimerReaches_CountsAsNone()
    {
        ICancellationService client = ClientWithDeadline(TimeSpan.FromDays(30));
        Assert.Equal(-1, client.DeadlineRemainingMilliseconds());
        Assert.Equal(5, await client.DelayAsync(5));
    }

    [Fact]
    public async Task ADeadlineAlreadyPast_FailsTheCall()
    {
        ICancellationService client = ClientWithDeadline(TimeSpan.FromSeconds(-1));
        Assert.Equal(StatusCode.DeadlineExceeded, Assert.Throws<RpcException>(() => client.Ping()).StatusCode);
        Assert.Equal(
            StatusCode.DeadlineExceeded,
            (await Assert.ThrowsAsync<RpcException>(() => client.DelayAsync(1).AsTask())).StatusCode);
    }
}
