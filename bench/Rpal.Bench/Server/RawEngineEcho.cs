using Rpal.Runtime;

namespace Rpal.Bench.Server;

/// <summary>
/// The engine's own round trip, without the RPC layer (no generated code, no encoding, no
/// statuses): a raw service that answers each call with its own inline words
/// (examples/Quickstart/RawEngineEcho.cs).
/// </summary>
internal sealed class RawEngineEcho : IRpalReceiverHandler, IDisposable
{
    private readonly RpalServiceListener _listener;
    private readonly RpalReceiver _receiver;

    public RawEngineEcho(string name)
    {
        _listener = RpalServiceListener.Register(name);
        _receiver = new RpalReceiver(this, "bench-raw-echo");
        _receiver.Add(_listener, l =>
        {
            while (l.TryAccept(out RpalConnection? c))
            {
                _receiver.Add(c, 0);
            }
        });
    }

    public void OnEvents(RpalConnection connection, ulong token, uint events)
    {
        if ((events & RpalEpollEvents.RpalHangup) != 0)
        {
            connection.Dispose();
            return;
        }

        while (connection.Receive(out RpalMessage request) == 0)
        {
            RpalMessage reply = default; // not the request: its Data points into the peer's arena
            reply.Word0 = request.Word0;
            connection.Reply(request.Id, in reply);
        }
    }

    /// <summary>One raw call (client side): the value goes in word 0 and comes back.</summary>
    public static long Call(RpalConnection connection, long value)
    {
        RpalMessage request = default;
        request.Word0 = (ulong)value;
        int rc = connection.Call(in request, out RpalMessage reply, -1);
        return rc < 0 ? throw new RpalException(rc, "rpal_call") : (long)reply.Word0;
    }

    public void Dispose()
    {
        _listener.Dispose();
        _receiver.Dispose();
    }
}
