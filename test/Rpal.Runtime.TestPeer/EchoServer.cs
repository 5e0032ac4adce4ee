namespace Rpal.Runtime.TestPeer;

/// <summary>Serves <see cref="PeerProtocol"/> on every connection added to its receiver.</summary>
internal sealed class EchoServer : IRpalReceiverHandler
{
    private readonly Dictionary<ulong, OneWayTotals> _totals = [];
    private ulong _nextToken;

    public RpalReceiver? Receiver { get; set; }

    /// <summary>Accepts every waiting client into the receiver (on the receiver thread).</summary>
    public void OnAcceptReady(RpalServiceListener listener)
    {
        while (listener.TryAccept(out RpalConnection? connection))
        {
            ulong token = ++_nextToken;
            _totals[token] = new OneWayTotals();
            Receiver!.Add(connection, token);
        }
    }

    public void OnEvents(RpalConnection connection, ulong token, uint events)
    {
        if ((events & RpalEpollEvents.RpalIn) != 0)
        {
            while (connection.Receive(out RpalMessage message) == 0)
            {
                if (!message.IsCall)
                {
                    OneWayTotals totals = _totals[token];
                    totals.Count++;
                    totals.Sum += message.Word1;
                    foreach (byte b in message.Payload)
                    {
                        totals.PayloadSum += b;
                    }

                    connection.Release(message);
                    continue;
                }

                Serve(connection, token, message);
            }
        }

        if ((events & RpalEpollEvents.RpalHangup) != 0)
        {
            _totals.Remove(token);
            connection.Dispose();
        }
    }

    private void Serve(RpalConnection connection, ulong token, in RpalMessage request)
    {
        switch (request.Word0)
        {
            case PeerProtocol.Echo:
                Check(connection.Reply(request.Id, EchoOf(request)), "reply");
                break;
            case PeerProtocol.OneWayTotals:
                OneWayTotals totals = _totals[token];
                Check(
                    connection.Reply(request.Id, new RpalMessage { Word1 = totals.Count, Word2 = totals.Sum, Word3 = totals.PayloadSum }),
                    "reply");
                break;
            case PeerProtocol.DescribeCaller:
                RpalPeerInfo caller = connection.PeerInfo;
                Check(
                    connection.Reply(request.Id, new RpalMessage { Word1 = caller.ArenaSize, Word2 = (ulong)caller.ProcessId }),
                    "reply");
                break;
            case PeerProtocol.Hold:
                break;
            case PeerProtocol.AsyncEcho:
                _ = AsyncEchoAsync(connection, request);
                break;
            default:
                Check(connection.Reply(request.Id, new RpalMessage { Status = -1 }), "reply");
                break;
        }
    }

    private async Task AsyncEchoAsync(RpalConnection connection, RpalMessage request)
    {
        // Runs on the receiver; the continuation comes back to it through its
        // SynchronizationContext while the receiver serves other messages.
        await Task.Yield();
        RpalMessage reply = EchoOf(request);
        reply.Word1 = Receiver!.IsCurrentThread ? 1UL : 0UL;
        int rc = connection.Reply(request.Id, reply);
        if (rc != -RpalErrno.EBADF)
        {
            Check(rc, "async reply");
        }
    }

    private static RpalMessage EchoOf(in RpalMessage request)
    {
        var reply = new RpalMessage
        {
            Word0 = request.Word0,
            Word1 = request.Word1,
            Word2 = request.Word2,
            Word3 = request.Word3,
            Status = request.Status,
        };
        if (request.Length > 0)
        {
            RpalBuffer buffer = RpalEngine.Alloc((nuint)request.Length);
            request.Payload.CopyTo(buffer.AsSpan());
            reply.Data = buffer.Address;
            reply.Length = request.Length;
        }

        return reply;
    }

    private static void Check(int rc, string what)
    {
        if (rc < 0 && rc != -RpalErrno.ECONNRESET)
        {
            Console.Error.WriteLine($"peer: {what} failed: {RpalErrno.GetName(rc)}");
        }
    }

    private sealed class OneWayTotals
    {
        public ulong Count { get; set; }

        public ulong Sum { get; set; }

        public ulong PayloadSum { get; set; }
    }
}
