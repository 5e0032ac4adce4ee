using Rpal.Runtime;

namespace Quickstart;

/// <summary>
/// The floor: the engine's own call round trip, without the RPC layer (no generated code, no
/// encoding, no statuses): a raw service that answers each call with the sum of its two inline
/// words. (The benchmark suite compiles this file too, for its rpal-engine echo: bench/Rpal.Bench.)
/// </summary>
internal sealed class RawEngineEcho : IRpalReceiverHandler, IDisposable
{
    private readonly RpalServiceListener _listener;
    private readonly RpalReceiver _receiver;

    public RawEngineEcho(string name)
    {
        _listener = RpalServiceListener.Register(name);
        _receiver = new RpalReceiver(this, "raw-echo");
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
            reply.Word0 = request.Word0 + request.Word1;
            connection.Reply(request.Id, in reply);
        }
    }

    /// <summary>One raw call (client side): a and b go in words 0 and 1, a + b comes back.</summary>
    public static long Call(RpalConnection connection, long a, long b)
    {
        RpalMessage request = default;
        request.Word0 = (ulong)a;
        request.Word1 = (ulong)b;
        int rc = connection.Call(in request, out RpalMessage reply, -1);
        return rc < 0 ? throw new RpalException(rc, "rpal_call") : (long)reply.Word0;
    }

    /// <summary>One raw call that comes back as it went: an echo of <paramref name="value"/>.</summary>
    public static long Call(RpalConnection connection, long value) => Call(connection, value, 0);

    public void Dispose()
    {
        _listener.Dispose();
        _receiver.Dispose();
    }
}
