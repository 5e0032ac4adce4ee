using Rpal.Runtime.TestPeer;
using Xunit;

namespace Rpal.Runtime.Tests;

/// <summary>
/// <see cref="RpalOutgoingMessage"/> and <see cref="RpalReceivedMessage"/>: who frees or releases
/// a payload, and when (the rule of rpal.h), with a real peer process where a send is involved.
/// </summary>
public sealed class OwnedMessageTests
{
    private const int CallTimeoutMs = 30_000;

    public OwnedMessageTests() => TestEngine.EnsureStarted();

    /// <summary>The buffer at <paramref name="address"/> was freed: rpal_free refuses it.</summary>
    private static void AssertFreed(nint address) =>
        Assert.Equal(RpalErrno.EINVAL, Assert.Throws<RpalException>(() => RpalEngine.Free(address)).Errno);

    [Fact]
    public void DisposingAnUnsentMessage_FreesItsPayload_Once()
    {
        var header = new RpalMessage { Word0 = 7 };
        RpalOutgoingMessage message = RpalOutgoingMessage.Allocate(in header, 100);
        nint address = message.Message.Data;
        Assert.True(message.OwnsPayload);
        Assert.Equal(7UL, message.Message.Word0);
        Assert.Equal(100UL, message.Message.Length);
        Assert.Equal(100, message.Payload.Length);
        message.Payload.Fill(0x5a);

        message.Dispose();

        Assert.False(message.OwnsPayload);
        Assert.Equal(0, message.Message.Data);
        AssertFreed(address);
        message.Dispose(); // idempotent: nothing left to free (a second rpal_free would throw)
    }

    [Fact]
    public void AMessageWithoutPayload_OwnsNothing()
    {
        var message = new RpalOutgoingMessage(new RpalMessage { Word1 = 3 });
        Assert.False(message.OwnsPayload);
        Assert.True(message.Payload.IsEmpty);
        message.Dispose();
        Assert.Equal(3UL, message.Message.Word1);
    }

    [Fact]
    public void Detach_HandsThePayloadOn_WithoutFreeingIt()
    {
        RpalOutgoingMessage message = RpalOutgoingMessage.Allocate(default, 32);
        RpalMessage detached = message.Detach();
        message.Dispose(); // owns nothing any more

        Assert.NotEqual(0, detached.Data);
        Assert.Equal(32UL, detached.Length);
        RpalEngine.Free(detached.Data); // still allocated: the new owner frees it
    }

    [Fact]
    public void TryAllocate_WhenTheArenaCannotHoldIt_ReturnsFalse_AndOwnsNothing()
    {
        Assert.False(RpalOutgoingMessage.TryAllocate(default, (int)(TestEngine.ArenaSize * 2 / 3 + 1), out RpalOutgoingMessage message));
        Assert.False(message.OwnsPayload);
        Assert.True(RpalOutgoingMessage.TryAllocate(default, 64, out message));
        Assert.True(message.OwnsPayload);
        message.Dispose();
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, true)]
    [InlineData(-RpalErrno.ECONNRESET, true)]
    [InlineData(-RpalErrno.EPROTO, true)]
    [InlineData(-RpalErrno.ENOBUFS, true)]
    [InlineData(-RpalErrno.ETIMEDOUT, true)]
    [InlineData(-RpalErrno.EAGAIN, false)]
    [InlineData(-RpalErrno.EINVAL, false)]
    [InlineData(-RpalErrno.EBADF, false)]
    public void IsTaken_FollowsTheEnginesContract(int rc, bool taken) =>
        Assert.Equal(taken, RpalOutgoingMessage.IsTaken(rc));

    [Fact]
    public async Task ASentMessage_IsTheEngines_AndDisposingItFreesNothing()
    {
        string service = TestEngine.UniqueServiceName("owned-send");
        using PeerProcess peer = await PeerProcess.StartServerAsync(service);
        using RpalConnection connection = RpalConnection.Connect(service);

        RpalOutgoingMessage message = RpalOutgoingMessage.Allocate(new RpalMessage { Word1 = 5 }, 8);
        message.Payload.Fill(2);
        Assert.Equal(0, connection.Send(ref message));
        Assert.False(message.OwnsPayload);
        message.Dispose(); // would throw (EINVAL) if it freed the buffer the engine lent out

        var totals = new RpalOutgoingMessage(new RpalMessage { Word0 = PeerProtocol.OneWayTotals });
        Assert.Equal(0, connection.Call(ref totals, out RpalReceivedMessage reply, CallTimeoutMs));
        using (reply)
        {
            Assert.Equal(1UL, reply.Message.Word1);
            Assert.Equal(5UL, reply.Message.Word2);
            Assert.Equal(16UL, reply.Message.Word3); // 8 bytes of 2
        }

        Assert.Equal(0UL, connection.Stats.Rejected);
    }

    [Fact]
    public async Task AMessageTheEngineRefused_IsStillOurs()
    {
        string service = TestEngine.UniqueServiceName("owned-refused");
        using PeerProcess peer = await PeerProcess.StartServerAsync(service);
        var connection = RpalConnection.Connect(service);

        // -EINVAL: a length past the buffer; not taken
        RpalOutgoingMessage message = RpalOutgoingMessage.Allocate(default, 16);
        nint address = message.Message.Data;
        message.Message.Length = 1UL << 30;
        Assert.Equal(-RpalErrno.EINVAL, connection.Send(ref message));
        Assert.True(message.OwnsPayload);
        message.Message.Length = 16;

        // -EBADF: the connection is gone before the engine saw the message; not taken
        connection.Dispose();
        Assert.Equal(-RpalErrno.EBADF, connection.Send(ref message));
        Assert.True(message.OwnsPayload);
        message.Dispose();
        AssertFreed(address);
    }

    [Fact]
    public async Task SendAsync_TakesThePayloadEvenWhenRefused()
    {
        string service = TestEngine.UniqueServiceName("owned-sendasync");
        using PeerProcess peer = await PeerProcess.StartServerAsync(service);
        var connection = RpalConnection.Connect(service);
        connection.Dispose();

        RpalMessage message = RpalOutgoingMessage.Allocate(default, 16).Detach();
        Assert.Equal(-RpalErrno.EBADF, await connection.SendAsync(message));
        AssertFreed(message.Data);
    }

    [Fact]
    public async Task DisposingAReceivedReply_ReleasesItsPayload_ExactlyOnce()
    {
        string service = TestEngine.UniqueServiceName("owned-reply");
        using PeerProcess peer = await PeerProcess.StartServerAsync(service);
        var connection = RpalConnection.Connect(service);

        RpalOutgoingMessage request = RpalOutgoingMessage.Allocate(new RpalMessage { Word0 = PeerProtocol.Echo }, 100);
        request.Payload.Fill(9);
        Assert.Equal(0, connection.Call(ref request, out RpalReceivedMessage reply, CallTimeoutMs));
        Assert.False(request.OwnsPayload); // the call took the request
        Assert.True(reply.OwnsPayload);
        Assert.Equal(100, reply.Payload.Length);
        Assert.True(reply.Payload.IndexOfAnyExcept((byte)9) < 0);

        Assert.Equal(0, reply.Release());
        Assert.False(reply.OwnsPayload);
        Assert.Equal(0, reply.Message.Data);

        // A second release would reach the engine and, on a disposed connection, return -EBADF:
        // it returns 0 because there is nothing left to release.
        connection.Dispose();
        Assert.Equal(0, reply.Release());
        reply.Dispose();
    }

    [Fact]
    public async Task AReceivedReply_OnADisposedConnection_ReportsTheConnectionsError_Once()
    {
        string service = TestEngine.UniqueServiceName("owned-late");
        using PeerProcess peer = await PeerProcess.StartServerAsync(service);
        var connection = RpalConnection.Connect(service);

        RpalOutgoingMessage request = RpalOutgoingMessage.Allocate(new RpalMessage { Word0 = PeerProtocol.Echo }, 10);
        Assert.Equal(0, connection.Call(ref request, out RpalReceivedMessage reply, CallTimeoutMs));
        connection.Dispose(); // gives every lent payload back

        Assert.Equal(-RpalErrno.EBADF, reply.Release()); // the one try, answered by the disposed connection
        Assert.False(reply.OwnsPayload);
        Assert.Equal(0, reply.Release());
    }

    [Fact]
    public void AReceivedMessage_WithoutPayload_ReleasesNothing()
    {
        var reply = default(RpalReceivedMessage);
        Assert.False(reply.OwnsPayload);
        Assert.Equal(0, reply.Release());
        reply.Dispose();
        Assert.Throws<ArgumentNullException>(() => new RpalReceivedMessage(null!, default));
    }
}
