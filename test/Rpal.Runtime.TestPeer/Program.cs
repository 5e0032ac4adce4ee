using Rpal.Runtime;
using Rpal.Runtime.TestPeer;

// The other process of Rpal.Runtime.Tests' cross-process tests. The engine is configured by the
// environment the test passes (RPAL_RUNTIME_DIR, RPAL_SPIN_NS).
//   server NAME         registers NAME, prints "ready KEY", serves PeerProtocol until stdin closes
//   client NAME CALLS   connects to NAME, makes CALLS echo calls, exits 0 when all were right
RpalEngine.Log += (level, message) => Console.Error.WriteLine($"peer log {level}: {message}");
RpalEngine.Start();
return args switch
{
    ["server", string name] => Serve(name),
    ["client", string name, string calls] => CallService(name, int.Parse(calls, System.Globalization.CultureInfo.InvariantCulture)),
    _ => Usage(),
};

static int Serve(string name)
{
    using RpalServiceListener listener = RpalServiceListener.Register(name);
    var server = new EchoServer();
    using var receiver = new RpalReceiver(server, "peer-receiver");
    server.Receiver = receiver;
    receiver.UnhandledException += (_, e) => Console.Error.WriteLine($"peer: unhandled {e.ExceptionObject}");
    receiver.Add(listener, server.OnAcceptReady);
    Console.WriteLine($"{PeerProtocol.Ready} {listener.Key}");
    Console.Out.Flush();
    Console.In.ReadToEnd(); // the test closes stdin (or kills us)
    return 0;
}

static int CallService(string name, int calls)
{
    using RpalConnection connection = RpalConnection.Connect(name);
    for (int i = 0; i < calls; i++)
    {
        RpalBuffer payload = RpalEngine.Alloc(16);
        payload.AsSpan()[..16].Fill((byte)i);
        RpalMessage request = payload.ToMessage(16);
        request.Word0 = PeerProtocol.Echo;
        request.Word1 = (ulong)i;
        int rc = connection.Call(request, out RpalMessage reply, 10_000);
        if (rc != 0)
        {
            Console.Error.WriteLine($"client: call {i} failed: {RpalErrno.GetName(rc)}");
            return 1;
        }

        bool right = reply.Word1 == (ulong)i && reply.Length == 16 && reply.Payload[15] == (byte)i;
        connection.Release(reply);
        if (!right)
        {
            Console.Error.WriteLine($"client: call {i} got a wrong reply");
            return 1;
        }
    }

    Console.WriteLine($"client: {calls} calls to {connection.PeerInfo} done");
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Rpal.Runtime.TestPeer server NAME | client NAME CALLS");
    return 2;
}
