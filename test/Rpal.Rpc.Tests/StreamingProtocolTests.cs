using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Rpal.Runtime;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// A client that speaks the stream protocol by hand (docs/wire.md, "Streams") and breaks it: the
/// server fails that call with Internal and goes on serving.
/// </summary>
[Collection(SharedServerDefinition.Name)]
public sealed class StreamingProtocolTests(SharedServerFixture fixture)
{
    private const uint FlagCancellable = 8, FlagStream = 16;
    private const uint OpStreamMessage = 2, OpWindow = 4;

    [Fact]
    public async Task AClientThatIgnoresFlowControl_FailsItsCallWithInternal_AndTheServerGoesOn()
    {
        using RpalConnection raw = RawConnection();
        ulong callId = OpenSum(raw);
        for (long i = 0; i < 200; i++)
        {
            Assert.Equal(0, raw.Send(Control(OpStreamMessage, callId, (ulong)i))); // no credit asked for
        }

        RpalCompletion done = RawCalls.WaitForCompletion(raw);
        Assert.Equal(0, done.Result);
        Assert.Equal(StatusCode.Internal, (StatusCode)(done.Reply.Status & 0xFFFF));
        raw.Release(in done.Reply);

        Assert.Equal((6L, 3L), await fixture.Client<IStreamingService>().SumAsync(AsyncEnumerable.Range(1, 3).Select(i => (long)i)));
    }

    [Fact]
    public void AMalformedWindow_FailsTheCallWithInternal()
    {
        using RpalConnection raw = RawConnection();
        ulong callId = OpenSum(raw);
        Assert.Equal(0, raw.Send(Control(OpWindow, callId, 1_000_000)));

        RpalCompletion done = RawCalls.WaitForCompletion(raw);
        Assert.Equal(StatusCode.Internal, (StatusCode)(done.Reply.Status & 0xFFFF));
        raw.Release(in done.Reply);
    }

    private static RpalConnection RawConnection()
    {
        TestEnvironment.EnsureEngine();
        return RpalConnection.Connect(ServiceNames.Streaming);
    }

    /// <summary>Opens SumAsync as a stream: an empty request body, flags Stream and Cancellable.</summary>
    private static ulong OpenSum(RpalConnection raw)
    {
        RpalMethod sum = RpalServiceRegistry.Get<IStreamingService>().Methods.Single(m => m.Name == nameof(IStreamingService.SumAsync));
        RpalMessage open = default;
        open.Word0 = sum.Id | ((ulong)(FlagStream | FlagCancellable) << 32);
        Assert.Equal(0, raw.Submit(in open, 1, out ulong callId));
        return callId;
    }

    private static RpalMessage Control(uint op, ulong callId, ulong word2)
    {
        RpalMessage m = default;
        m.Word0 = (ulong)op << 32;
        m.Word1 = callId;
        m.Word2 = word2;
        return m;
    }
}
