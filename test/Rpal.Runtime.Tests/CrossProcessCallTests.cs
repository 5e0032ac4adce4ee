using System.Collections.Concurrent;
using Rpal.Runtime.TestPeer;
using Xunit;

namespace Rpal.Runtime.Tests;

/// <summary>
/// Calls and messages between this process and a real peer process (Rpal.Runtime.TestPeer)
/// that serves through an <see cref="RpalReceiver"/>.
/// </summary>
public sealed class CrossProcessCallTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private const int CallTimeoutMs = 30_000;

    public CrossProcessCallTests() => TestEngine.EnsureStarted();

    [Fact]
    public async Task BlockingCall_EchoesWordsStatusAndPayload()
    {
        string service = TestEngine.UniqueServiceName("echo");
        using PeerProcess peer = await PeerProcess.StartServerAsync(service);
        using RpalConnection connection = RpalConnection.Connect(service);

        RpalPeerInfo info = connection.PeerInfo;
        Assert.Equal(peer.Id, info.ProcessId);
        Assert.Equal(service, info.Name);
        Assert.Equal(peer.Key, info.Key);
        Assert.True(info.Slot >= 0 && info.Slot != RpalEngine.SlotId);

        for (int i = 0; i < 50; i++)
        {
            RpalBuffer buffer = RpalEngine.Alloc(1000);
            buffer.AsSpan()[..1000].Fill((byte)i);
            RpalMessage request = buffer.ToMessage(1000);
            request.Word0 = PeerProtocol.Echo;
            request.Word1 = (ulong)i;
            request.Word3 = ulong.MaxValue;
            request.Status = -i;

            Assert.Equal(0, connection.Call(request, out RpalMessage reply, CallTimeoutMs));

            Assert.Equal(PeerProtocol.Echo, reply.Word0);
            Assert.Equal((ulong)i, reply.Word1);
            Assert.Equal(ulong.MaxValue, reply.Word3);
            Assert.Equal(-i, reply.Status);
            Assert.Equal(0UL, reply.Id);
            Assert.Equal(1000, reply.Payload.Length);
            Assert.True(reply.Payload.IndexOfAnyExcept((byte)i) < 0);
            Assert.InRange((ulong)reply.Data, info.ArenaBase, info.ArenaBase + info.ArenaSize - 1);
            Assert.Equal(0, connection.Release(reply));
        }

        RpalConnectionStats stats = connection.Stats;
        Assert.True(stats.Sent >= 50, $"sent {stats.Sent}");
        Assert.Equal(0UL, stats.Rejected);
        Assert.DoesNotContain("peer:", peer.Errors, StringComparison.Ordinal); // its failure reports
    }

    [Fact]
    public async Task ThePeer_SeesTheOptionsThisProcessStartedWith()
    {
        string service = TestEngine.UniqueServiceName("describe");
        using PeerProcess peer = await PeerProcess.StartServerAsync(service);
        using RpalConnection connection = RpalConnection.Connect(service);

        var request = new RpalMessage { Word0 = PeerProtocol.DescribeCaller };
        Assert.Equal(0, connection.Call(request, out RpalMessage reply, CallTimeoutMs));

        Assert.Equal((ulong)TestEngine.ArenaSize, reply.Word1);
        Assert.Equal((ulong)Environment.ProcessId, reply.Word2);
    }

    [Fact]
    public async Task OneWayMessages_ArriveInOrder_BeforeALaterCall()
    {
        string service = TestEngine.UniqueServiceName("oneway");
        using PeerProcess peer = await PeerProcess.StartServerAsync(service);
        using RpalConnection connection = RpalConnection.Connect(service);

        const int Count = 300;
        ulong sum = 0;
        ulong payloadSum = 0;
        for (int i = 1; i <= Count; i++)
        {
            RpalMessage message = default;
            if (i % 3 == 0)
            {
                RpalBuffer buffer = RpalEngine.Alloc(8);
                buffer.AsSpan()[..8].Fill(2);
                message = buffer.ToMessage(8);
                payloadSum += 16;
            }

            message.Word1 = (ulong)i;
            sum += (ulong)i;
            Assert.Equal(0, connection.Send(message));
        }

        var request = new RpalMessage { Word0 = PeerProtocol.OneWayTotals };
        Assert.Equal(0, connection.Call(request, out RpalMessage reply, CallTimeoutMs));
        Assert.Equal((ulong)Count, reply.Word1);
        Assert.Equal(sum, reply.Word2);
        Assert.Equal(payloadSum, reply.Word3);
    }

    [Fact]
    public async Task SubmittedCalls_CompleteThroughAReceiver()
    {
        string service = TestEngine.UniqueServiceName("submit");
        using PeerProcess peer = await PeerProcess.StartServerAsync(service);
        using RpalConnection connection = RpalConnection.Connect(service);
        var router = new CompletionRouter();
        using var receiver = new RpalReceiver(router);
        var reported = new ConcurrentQueue<Exception>();
        receiver.UnhandledException += (_, e) => reported.Enqueue((Exception)e.ExceptionObject);
        router.ThrowOnce(); // the receiver reports it and goes on; the events are reported again
        receiver.Add(connection, token: 7);

        const int Calls = 400;
        var tasks = new List<Task<RpalCompletion>>();
        for (int i = 0; i < Calls; i++)
        {
            var request = new RpalMessage { Word0 = PeerProtocol.Echo, Word1 = (ulong)i, Word2 = 42 };
            tasks.Add(router.Submit(connection, request).AsTask());
        }

        RpalCompletion[] completions = await Task.WhenAll(tasks).WaitAsync(s_timeout);
        for (int i = 0; i < Calls; i++)
        {
            Assert.Equal(0, completions[i].Result);
            Assert.Equal((ulong)i, completions[i].Reply.Word1);
            Assert.Equal(42UL, completions[i].Reply.Word2);
        }

        Assert.Equal(receiver.ManagedThreadId, router.HandlerThreadId);
        Assert.Single(reported);
        Assert.IsType<InvalidOperationException>(reported.Single());

        // A blocking call on a connection that a receiver serves works too.
        var sync = new RpalMessage { Word0 = PeerProtocol.Echo, Word1 = 99 };
        Assert.Equal(0, connection.Call(sync, out RpalMessage reply, CallTimeoutMs));
        Assert.Equal(99UL, reply.Word1);
    }

    [Fact]
    public async Task AsyncHandlerOnThePeer_ContinuesOnItsReceiverThread()
    {
        string service = TestEngine.UniqueServiceName("async");
        using PeerProcess peer = await PeerProcess.StartServerAsync(service);
        using RpalConnection connection = RpalConnection.Connect(service);

        for (int i = 0; i < 20; i++)
        {
            var request = new RpalMessage { Word0 = PeerProtocol.AsyncEcho, Word2 = (ulong)i };
            Assert.Equal(0, connection.Call(request, out RpalMessage reply, CallTimeoutMs));
            Assert.Equal(1UL, reply.Word1);
            Assert.Equal((ulong)i, reply.Word2);
        }
    }

    [Fact]
    public async Task SubmitAndSpin_CompletesAFastCallOnTheCallersThread_AndLeavesASlowOneToComplete()
    {
        string service = TestEngine.UniqueServiceName("spin");
        using PeerProcess peer = await PeerProcess.StartServerAsync(service);
        using RpalConnection connection = RpalConnection.Connect(service);
        Assert.Throws<ArgumentOutOfRangeException>(() => connection.SubmitAndSpin(default, 1, TimeSpan.FromTicks(-1), out _, out _));

        for (int i = 0; i < 100; i++)
        {
            var request = new RpalMessage { Word0 = PeerProtocol.Echo, Word1 = (ulong)i };
            Assert.Equal(1, connection.SubmitAndSpin(request, (ulong)(100 + i), TimeSpan.FromSeconds(10), out ulong id, out RpalCompletion done));
            Assert.NotEqual(0UL, id);
            Assert.Equal((ulong)(100 + i), done.UserData);
            Assert.Equal(0, done.Result);
            Assert.Equal((ulong)i, done.Reply.Word1);
        }

        Assert.Equal(-RpalErrno.EAGAIN, connection.Complete(out _)); // none was queued

        // never answered: after its 1 ms spin it is an ordinary submitted call, which the
        // peer's death completes
        Assert.Equal(0, connection.SubmitAndSpin(new RpalMessage { Word0 = PeerProtocol.Hold }, 7, TimeSpan.FromMilliseconds(1), out ulong held, out _));
        Assert.NotEqual(0UL, held);
        Assert.Equal(-RpalErrno.EAGAIN, connection.Complete(out _));
        peer.Kill();
        Assert.Equal(-RpalErrno.ECONNRESET, connection.Call(new RpalMessage { Word0 = PeerProtocol.Echo }, out _, CallTimeoutMs));
        Assert.Equal(0, connection.Complete(out RpalCompletion failed));
        Assert.Equal(7UL, failed.UserData);
        Assert.Equal(-RpalErrno.ECONNRESET, failed.Result);
        Assert.Equal(-RpalErrno.ECONNRESET, connection.SubmitAndSpin(default, 8, null, out _, out _));
    }

    [Fact]
    public async Task KilledPeer_FailsCallsWithConnectionReset_AndTheReceiverSeesTheHangup()
    {
        string service = TestEngine.UniqueServiceName("kill");
        using PeerProcess peer = await PeerProcess.StartServerAsync(service);
        var log = new ConcurrentQueue<string>();
        Action<int, string> onLog = (_, message) => log.Enqueue(message);
        RpalEngine.Log += onLog;
        try
        {
            RpalConnection connection = RpalConnection.Connect(service);
            var router = new CompletionRouter();
            using var receiver = new RpalReceiver(router);
            receiver.Add(connection, token: 1);

            ValueTask<RpalCompletion> held = router.Submit(connection, new RpalMessage { Word0 = PeerProtocol.Hold });
            Assert.False(held.IsCompleted);

            peer.Kill();

            var request = new RpalMessage { Word0 = PeerProtocol.Echo };
            Assert.Equal(-RpalErrno.ECONNRESET, connection.Call(request, out _, CallTimeoutMs));
            RpalCompletion failed = await held.AsTask().WaitAsync(s_timeout);
            Assert.Equal(-RpalErrno.ECONNRESET, failed.Result);
            await router.Hangup.Task.WaitAsync(s_timeout);
            Assert.Equal(-RpalErrno.ECONNRESET, connection.Send(default));

            // The hang-up is reported once, though the connection stays in the set: after two
            // more turns of the receiver's loop (each waits on the set once), still one.
            await PostAndWaitAsync(receiver);
            await PostAndWaitAsync(receiver);
            Assert.Equal(1, router.Hangups);

            // Disposed from this thread while the receiver serves it: the receiver releases it.
            connection.Dispose();
            Assert.True(connection.IsDisposed);
            Assert.Equal(-RpalErrno.EBADF, connection.Call(request, out _, CallTimeoutMs));
            Assert.Equal(-RpalErrno.EBADF, connection.Receive(out _));
            Assert.Equal(-RpalErrno.EBADF, connection.Complete(out _));
            Assert.Throws<ObjectDisposedException>(() => connection.Fd);
            Assert.Throws<ObjectDisposedException>(() => connection.Stats);

            // The engine's log reached RpalEngine.Log.
            Assert.Contains(log, m => m.Contains($"pid {peer.Id} ended", StringComparison.Ordinal));
            Assert.True(receiver.Stop(s_timeout));
        }
        finally
        {
            RpalEngine.Log -= onLog;
        }
    }

    private static async Task PostAndWaitAsync(RpalReceiver receiver)
    {
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Post(_ => ran.SetResult(), null);
        await ran.Task.WaitAsync(s_timeout);
    }
}
