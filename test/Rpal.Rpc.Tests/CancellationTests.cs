using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>Cancelling the caller's token ends the call with Cancelled and fires the handler's token.</summary>
[Collection(SharedServerDefinition.Name)]
public sealed class CancellationTests(SharedServerFixture fixture)
{
    private readonly ICancellationService _client = fixture.Client<ICancellationService>();

    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task CancellingTheCallersToken_EndsTheCall_AndFiresTheHandlersToken()
    {
        int tag = Tags.Next();
        using var cts = new CancellationTokenSource();
        Task<int> call = _client.WaitForCancellationAsync(tag, cts.Token).AsTask();
        await Server.WaitForEventAsync(ServerEvents.Held, tag);

        await cts.CancelAsync();
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        await Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task CancellingATaskCall_EndsIt_AndFiresTheHandlersToken()
    {
        int tag = Tags.Next();
        using var cts = new CancellationTokenSource();
        Task call = _client.WaitForCancellationTaskAsync(tag, cts.Token);
        await Server.WaitForEventAsync(ServerEvents.Held, tag);

        await cts.CancelAsync();
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        await Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task TheTokenOfCallOptions_CancelsTheClientsCalls()
    {
        int tag = Tags.Next();
        using var cts = new CancellationTokenSource();
        ICancellationService client = fixture.Channel(ServiceNames.Cancellation)
            .CreateClient<ICancellationService>(new Grpc.Core.CallOptions(cancellationToken: cts.Token));
        Task<int> call = client.WaitForCancellationAsync(tag).AsTask();
        await Server.WaitForEventAsync(ServerEvents.Held, tag);

        await cts.CancelAsync();
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        await Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
        Assert.Equal(StatusCode.Cancelled, Assert.Throws<RpcException>(() => client.Ping()).StatusCode);
    }

    [Fact]
    public async Task ATokenCancelledBeforeTheCall_FailsItWithCancelled()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => _client.WaitForCancellationAsync(Tags.Next(), cts.Token).AsTask());
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        e = Assert.Throws<RpcException>(() => _client.BlockUntilCanceled(Tags.Next(), cts.Token));
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
    }

    [Fact]
    public async Task CancellingOneCall_LeavesTheOthersRunning()
    {
        int first = Tags.Next(), second = Tags.Next();
        using var cts1 = new CancellationTokenSource();
        using var cts2 = new CancellationTokenSource();
        Task<int> call1 = _client.WaitForCancellationAsync(first, cts1.Token).AsTask();
        Task<int> call2 = _client.WaitForCancellationAsync(second, cts2.Token).AsTask();
        await Server.WaitForEventAsync(ServerEvents.Held, first);
        await Server.WaitForEventAsync(ServerEvents.Held, second);

        await cts1.CancelAsync();
        Assert.Equal(StatusCode.Cancelled, (await Assert.ThrowsAsync<RpcException>(() => call1.WaitAsync(ServerProcess.EventTimeout))).StatusCode);
        await Server.WaitForEventAsync(ServerEvents.TokenFired, first);
        Assert.False(call2.IsCompleted);
        Assert.False(Server.HasWritten(ServerEvents.WithTag(ServerEvents.TokenFired, second)));

        await cts2.CancelAsync();
        Assert.Equal(StatusCode.Cancelled, (await Assert.ThrowsAsync<RpcException>(() => call2.WaitAsync(ServerProcess.EventTimeout))).StatusCode);
        await Server.WaitForEventAsync(ServerEvents.TokenFired, second);
    }

    [Fact]
    public async Task AfterACancelledCall_TheChannelStillServes()
    {
        int tag = Tags.Next();
        using var cts = new CancellationTokenSource();
        Task<int> call = _client.WaitForCancellationAsync(tag, cts.Token).AsTask();
        await Server.WaitForEventAsync(ServerEvents.Held, tag);
        await cts.CancelAsync();
        await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(ServerProcess.EventTimeout));
        await Server.WaitForEventAsync(ServerEvents.TokenFired, tag);

        Assert.Equal(1, _client.Ping());
        Assert.Equal(5, await _client.DelayAsync(5));
    }
}
