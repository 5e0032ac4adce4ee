using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>Every way a call fails reaches the caller as RpcException with the right status.</summary>
[Collection(SharedServerDefinition.Name)]
public sealed class StatusTests(SharedServerFixture fixture)
{
    private const string Message = "the handler failed: ünïcödé";

    private readonly IStatusService _client = fixture.Client<IStatusService>();

    [Fact]
    public void AHandlersException_IsUnknown_WithItsMessage_AndNoStackTrace()
    {
        RpcException e = Assert.Throws<RpcException>(() => _client.Fail(Message));
        AssertUnknownWithMessageOnly(e);
    }

    [Fact]
    public async Task AHandlersExceptionAfterSuspending_IsUnknown_WithItsMessage()
    {
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => _client.ThrowAfterYieldAsync(Message).AsTask());
        AssertUnknownWithMessageOnly(e);
    }

    [Fact]
    public async Task AHandlersExceptionBeforeItReturnsATask_IsUnknown_WithItsMessage()
    {
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => _client.ThrowBeforeTaskAsync(Message));
        AssertUnknownWithMessageOnly(e);
    }

    [Theory]
    [InlineData(StatusCode.NotFound)]
    [InlineData(StatusCode.PermissionDenied)]
    [InlineData(StatusCode.FailedPrecondition)]
    [InlineData(StatusCode.ResourceExhausted)]
    [InlineData(StatusCode.Internal)]
    public void AnRpcExceptionFromAHandler_KeepsItsStatusDetailAndTrailers(StatusCode code)
    {
        RpcException e = Assert.Throws<RpcException>(() => _client.ThrowRpc(code, $"detail of {code}", "reason", "because"));
        Assert.Equal(code, e.StatusCode);
        Assert.Equal($"detail of {code}", e.Status.Detail);
        Assert.Equal("because", e.Trailers.GetValue("reason"));
    }

    [Fact]
    public async Task AnRpcExceptionAfterSuspending_KeepsItsStatusDetailAndTrailers()
    {
        RpcException e = await Assert.ThrowsAsync<RpcException>(
            () => _client.ThrowRpcAfterYieldAsync(StatusCode.AlreadyExists, "already there", "where", "here"));
        Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
        Assert.Equal("already there", e.Status.Detail);
        Assert.Equal("here", e.Trailers.GetValue("where"));
    }

    [Fact]
    public void AStatusSetOnTheCallContext_IsTheCallsStatus()
    {
        RpcException e = Assert.Throws<RpcException>(() => _client.AnswerWithContextStatus(StatusCode.NotFound, "no such thing"));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal("no such thing", e.Status.Detail);
        Assert.Equal(0, _client.AnswerWithContextStatus(StatusCode.OK, ""));
    }

    [Fact]
    public void AfterFailedCalls_TheChannelStillServes()
    {
        Assert.Throws<RpcException>(() => _client.Fail(Message));
        Assert.Throws<RpcException>(() => _client.ThrowRpc(StatusCode.Aborted, "x", "k", "v"));
        Assert.Equal(1, _client.Ping());
    }

    [Fact]
    public async Task ConnectingToAServiceNobodyServes_IsUnavailable()
    {
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => TestEnvironment.ConnectAsync("rpal.test.nobody-serves-this").AsTask());
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Contains("rpal.test.nobody-serves-this", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMethodTheServerDoesNotKnow_IsUnimplemented()
    {
        IStatusServiceNext next = fixture.Channel(ServiceNames.Status).CreateClient<IStatusServiceNext>();
        Assert.Equal(1, next.Ping()); // the methods both versions share still work

        RpcException e = Assert.Throws<RpcException>(() => next.PingFromTheFuture());
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => next.PingFromTheFutureAsync().AsTask());
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        Assert.Equal(1, next.Ping());
    }

    [Fact]
    public void AResponseLargerThanTheServersArena_FailsTheCall_AndTheServerGoesOn()
    {
        // The server's arena is 128 MiB (the engine's default; one block is at most 64 MiB): the reply cannot be allocated.
        // The deadline only bounds the test if the server never answers.
        IStatusService client = fixture.Channel(ServiceNames.Status).CreateClient<IStatusService>(
            new CallOptions(deadline: DateTime.UtcNow.AddSeconds(5)));
        RpcException e = Assert.Throws<RpcException>(() => client.Allocate(80 << 20));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal(1, _client.Ping());
    }

    [Fact]
    public void ARequestLargerThanTheCallersArena_FailsWithRpcException()
    {
        // This process's arena is 128 MiB (the engine's default; one block is at most 64 MiB): the request cannot be allocated.
        byte[] data = new byte[80 << 20];
        Exception e = Record.Exception(() => _client.Measure(data));
        RpcException rpc = Assert.IsType<RpcException>(e);
        Assert.Equal(StatusCode.ResourceExhausted, rpc.StatusCode);
        Assert.Equal(1, _client.Ping());
    }

    [Fact]
    public async Task WithDetailedErrors_AHandlersExceptionCarriesItsTypeAndStackTrace()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.DetailedErrors, "--detailed-errors");
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.DetailedErrors);
        RpcException e = Assert.Throws<RpcException>(() => channel.CreateClient<IDetailedErrorService>().Fail(Message));
        Assert.Equal(StatusCode.Unknown, e.StatusCode);
        Assert.Contains(nameof(InvalidOperationException), e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(Message, e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(" at ", e.Status.Detail, StringComparison.Ordinal);
    }

    private static void AssertUnknownWithMessageOnly(RpcException e)
    {
        Assert.Equal(StatusCode.Unknown, e.StatusCode);
        Assert.Equal(Message, e.Status.Detail);
        Assert.Null(e.Status.DebugException); // never crosses the process boundary
    }
}
