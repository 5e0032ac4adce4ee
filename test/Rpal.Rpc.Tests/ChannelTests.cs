using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>What a channel promises about its clients and its own end.</summary>
[Collection(SharedServerDefinition.Name)]
public sealed class ChannelTests(SharedServerFixture fixture)
{
    [Fact]
    public async Task DisposingTheChannel_FailsItsCallsInFlightWithUnavailable_AndFiresTheirTokensOnTheServer()
    {
        RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Cancellation);
        ICancellationService client = channel.CreateClient<ICancellationService>();
        using var cts = new CancellationTokenSource(); // never cancelled: the call is cancellable
        int tag = Tags.Next();
        Task<int> call = client.WaitForCancellationAsync(tag, cts.Token).AsTask();
        await fixture.Server.WaitForEventAsync(ServerEvents.Held, tag);

        await channel.DisposeAsync();
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        await fixture.Server.WaitForEventAsync(ServerEvents.TokenFired, tag); // the server saw the caller leave

        Assert.Throws<ObjectDisposedException>(() => channel.CreateClient<ICancellationService>());
        Assert.Equal(StatusCode.Unavailable, Assert.Throws<RpcException>(() => client.Ping()).StatusCode);
    }

    [Fact]
    public void AClientOfAnotherService_IsRefused()
    {
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(
            () => fixture.Channel(ServiceNames.Shapes).CreateClient<ITypeRoundTrip>());
        Assert.Contains(ServiceNames.Types, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClientsOfOneChannel_ShareItsConnection()
    {
        RpalChannel channel = fixture.Channel(ServiceNames.Shapes);
        IMethodShapes first = channel.CreateClient<IMethodShapes>();
        IMethodShapes second = channel.CreateClient<IMethodShapes>(new CallOptions(deadline: DateTime.UtcNow.AddMinutes(1)));
        long key = Tags.Next();
        first.Store(key, 99);
        Assert.Equal(99, second.Load(key));
    }
}
