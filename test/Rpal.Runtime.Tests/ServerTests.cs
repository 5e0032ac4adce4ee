using Rpal.Runtime.TestPeer;
using Xunit;

namespace Rpal.Runtime.Tests;

/// <summary>This process serves, through a listener and a receiver; a peer process calls it.</summary>
public sealed class ServerTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    public ServerTests() => TestEngine.EnsureStarted();

    [Fact]
    public async Task ListenerInAReceiver_AcceptsAPeer_AndServesItsCalls()
    {
        string service = TestEngine.UniqueServiceName("server");
        var server = new EchoHandler();
        using var receiver = new RpalReceiver(server);
        server.Receiver = receiver;
        RpalServiceListener listener = RpalServiceListener.Register(service);
        receiver.Add(listener, server.OnAcceptReady);

        using (PeerProcess client = PeerProcess.StartClient(service, calls: 100))
        {
            int exit = await client.WaitForExitAsync(s_timeout);
            Assert.True(exit == 0, $"the client exited with {exit}: {client.Errors}");
        }

        Assert.Equal(100, server.Calls);
        await server.Hangup.Task.WaitAsync(s_timeout); // the client's exit released the connection

        // Disposed off the receiver thread: unregistered on it, and the name is free again.
        // Work posted to the receiver runs in order, so once a later item ran, so did the detach.
        listener.Dispose();
        var detached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Post(_ => detached.SetResult(), null);
        await detached.Task.WaitAsync(s_timeout);
        Assert.False(File.Exists(Path.Combine(TestEngine.RuntimeDirectory, "services", service + ".sock")));
        Assert.Equal(RpalErrno.ENOENT, Assert.Throws<RpalException>(() => RpalConnection.Connect(service)).Errno);
    }

    [Fact]
    public void AConnectionOrListener_CanBeInOneReceiverOnly()
    {
        var handler = new EchoHandler();
        using var first = new RpalReceiver(handler);
        using var second = new RpalReceiver(handler);
        using RpalServiceListener listener = RpalServiceListener.Register(TestEngine.UniqueServiceName("one"));
        first.Add(listener, _ => { });
        Assert.Throws<InvalidOperationException>(() => second.Add(listener, _ => { }));

        Assert.True(first.Stop(s_timeout));
        // Once the first stopped, the listener is free (and still registered).
        second.Add(listener, _ => { });
        Assert.Throws<ObjectDisposedException>(() => first.Add(listener, _ => { }));
    }

    private sealed class EchoHandler : IRpalReceiverHandler
    {
        private int _calls;

        public RpalReceiver? Receiver { get; set; }

        public int Calls => Volatile.Read(ref _calls);

        public TaskCompletionSource Hangup { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnAcceptReady(RpalServiceListener listener)
        {
            Assert.True(Receiver!.IsCurrentThread);
            while (listener.TryAccept(out RpalConnection? connection))
            {
                Receiver.Add(connection, token: 1);
            }
        }

        public void OnEvents(RpalConnection connection, ulong token, uint events)
        {
            while (connection.Receive(out RpalMessage request) == 0)
            {
                Assert.Equal(PeerProtocol.Echo, request.Word0);
                RpalBuffer buffer = RpalEngine.Alloc((nuint)request.Length);
                request.Payload.CopyTo(buffer.AsSpan());
                RpalMessage reply = buffer.ToMessage((int)request.Length);
                reply.Word1 = request.Word1;
                Assert.Equal(0, connection.Reply(request.Id, reply));
                Interlocked.Increment(ref _calls);
            }

            if ((events & RpalEpollEvents.RpalHangup) != 0)
            {
                connection.Dispose(); // on the receiver thread: released at once
                Hangup.TrySetResult();
            }
        }
    }
}
