using Grpc.Core;
using Grpc.Testing;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.TestContracts.Compat;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// Three processes: this one calls the relay (a process of its own), whose handler calls
/// Calculator.Square on the shared server with <c>new CallOptions().PropagateFrom(context)</c>:
/// the relay call's deadline and cancellation reach the shared server's handler. And what a
/// channel whose server is gone answers for a service nobody serves.
/// </summary>
[Collection(SharedServerDefinition.Name)]
public sealed class GrpcContextPropagationTests(SharedServerFixture fixture)
{
    [Fact]
    public async Task TheRelayCallsDeadline_IsTheChildCallsDeadline()
    {
        using ServerProcess relay = await ServerProcess.StartAsync(ServiceNames.CompatRelay);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.CompatRelay);
        var client = new Relay.RelayClient(channel);

        Assert.Equal(-1, (await client.ForwardAsync(new Number { Command = "deadline-ms" })).Value);
        long left = (await client.ForwardAsync(new Number { Command = "deadline-ms" }, deadline: DateTime.UtcNow.AddSeconds(30))).Value;
        Assert.InRange(left, 1, 30_000);
    }

    [Fact]
    public async Task CancellingTheRelayCall_CancelsTheChildCall_InTheThirdProcess()
    {
        using ServerProcess relay = await ServerProcess.StartAsync(ServiceNames.CompatRelay);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.CompatRelay);
        var client = new Relay.RelayClient(channel);
        int tag = Tags.Next();
        using var cts = new CancellationTokenSource();
        using AsyncUnaryCall<Number> call = client.ForwardAsync(new Number { Command = $"hold:{tag}" }, cancellationToken: cts.Token);
        await fixture.Server.WaitForEventAsync(ServerEvents.Held, tag);
        await cts.CancelAsync();
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        await fixture.Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task TheRelayCallsDeadlinePassing_FiresTheChildCallsToken_InTheThirdProcess()
    {
        using ServerProcess relay = await ServerProcess.StartAsync(ServiceNames.CompatRelay);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.CompatRelay);
        var client = new Relay.RelayClient(channel);
        int tag = Tags.Next();
        using AsyncUnaryCall<Number> call = client.ForwardAsync(new Number { Command = $"hold:{tag}" }, deadline: DateTime.UtcNow.AddMilliseconds(500));
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        await fixture.Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task WhenTheChannelsServerIsGone_AServiceNobodyServes_IsUnavailable_ThroughTheReturnedCalls()
    {
        using ServerProcess relay = await ServerProcess.StartAsync(ServiceNames.CompatRelay);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.CompatRelay);
        Assert.Equal(4, (await new Relay.RelayClient(channel).ForwardAsync(new Number { Value = 2 })).Value);
        relay.Kill();
        await relay.WaitForExitAsync(ServerProcess.EventTimeout);

        var client = new UnimplementedService.UnimplementedServiceClient(channel);
        using AsyncUnaryCall<Empty> unary = client.UnimplementedCallAsync(new Empty()); // returned, not thrown
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => unary.ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<RpcException>(() => unary.ResponseHeadersAsync)).StatusCode);
        Assert.Equal(StatusCode.Unavailable, unary.GetStatus().StatusCode);

        var duplex = new Method<Empty, Empty>(MethodType.DuplexStreaming, "grpc.testing.UnimplementedService", "Chat", Empty.Parser.ToMarshaller(), Empty.Parser.ToMarshaller());
        using AsyncDuplexStreamingCall<Empty, Empty> stream = channel.CreateCallInvoker().AsyncDuplexStreamingCall(duplex, null, default);
        Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<RpcException>(() => stream.RequestStream.WriteAsync(new Empty()))).StatusCode);
        Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext())).StatusCode);
        Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<RpcException>(() => stream.ResponseHeadersAsync)).StatusCode);
    }
}

/// <summary>A protobuf parser as a gRPC marshaller, as Grpc.Tools' generated code makes one.</summary>
internal static class ParserMarshalling
{
    public static Marshaller<T> ToMarshaller<T>(this Google.Protobuf.MessageParser<T> parser)
        where T : Google.Protobuf.IMessage<T> =>
        Marshallers.Create(m => Google.Protobuf.MessageExtensions.ToByteArray(m), parser.ParseFrom);
}
