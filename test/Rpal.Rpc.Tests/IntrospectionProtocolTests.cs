using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Rpal.Rpc.Wire;
using Rpal.Runtime;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// An introspection call (method id 0, docs/wire.md "Introspection") made by hand, with a payload
/// it does not need: the server answers it and gives the payload back the way every call's request
/// payload goes back, with the reply, never with a release of its own (which the owner refuses
/// and counts in its connection's rejected messages).
/// </summary>
[Collection(SharedServerDefinition.Name)]
public sealed class IntrospectionProtocolTests
{
    [Fact]
    public void APingWithAPayload_IsAnswered_AndItsPayloadGoesBackWithTheReply()
    {
        TestEnvironment.EnsureEngine();
        using RpalConnection raw = RpalConnection.Connect(ServiceNames.Streaming);
        for (int i = 0; i < 3; i++)
        {
            RpalMessage ping = IntrospectionCodec.Request(IntrospectionCodec.OpPing);
            RpalBuffer payload = RpalEngine.Alloc(64);
            ping.Data = payload.Address;
            ping.Length = 64;

            Assert.Equal(0, raw.Call(in ping, out RpalMessage reply, 10_000));
            Assert.Equal(StatusCode.OK, (StatusCode)(reply.Status & 0xFFFF));
            raw.Release(in reply);
        }

        Assert.Equal(0ul, raw.Stats.Rejected);
    }
}
