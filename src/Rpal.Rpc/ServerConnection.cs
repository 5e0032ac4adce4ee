using Grpc.Core;
using Rpal.Rpc.Diagnostics;
using Rpal.Rpc.Generated;
using Rpal.Rpc.Streaming;
using Rpal.Rpc.Wire;
using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>
/// One accepted client of one service, served on one receiver thread: takes its requests,
/// runs them through the service's dispatcher inline, answers, and honours cancellations.
/// </summary>
internal sealed class ServerConnection
{
    private readonly Stack<RpalServerCall> _pool = new();
    private readonly Dictionary<ulong, RpalServerCall> _cancellable = [];
    private readonly List<RpalServerCall> _calls = []; // every call object of this connection, pooled or running
    private readonly Lock _lock = new();
    private int _inflight;
    private int _closed;

    public ServerConnection(RpalServer server, HostedService service, RpalConnection connection)
    {
        Server = server;
        Service = service;
        Connection = connection;
        RpalPeerInfo info = connection.PeerInfo;
        Peer = info;
        PeerName = $"rpal:pid={info.ProcessId},uid={info.UserId}";
    }

    public RpalPeerInfo Peer { get; }

    public RpalServer Server { get; }

    public HostedService Service { get; }

    public RpalConnection Connection { get; }

    public string ServiceName => Service.Descriptor.ServiceName;

    public string PeerName { get; }

    public int InFlight => Volatile.Read(ref _inflight);

    /// <summary>The method with wire id <paramref name="id"/>, null when the service has none.</summary>
    public RpalMethod? FindMethod(uint id)
    {
        foreach (RpalMethod m in Service.Descriptor.Methods)
        {
            if (m.Id == id)
            {
                return m;
            }
        }

        return null;
    }

    public void LogConnected() =>
        RpalLog.ClientConnected(Server.Logger, ServiceName, Peer.ProcessId, Peer.UserId, Peer.Slot);

    public string MethodName(uint id)
    {
        foreach (RpalMethod m in Service.Descriptor.Methods)
        {
            if (m.Id == id)
            {
                return m.FullName;
            }
        }

        return $"/{ServiceName}/{id:x8}";
    }

    /// <summary>
    /// Serves every request waiting on the connection (receiver thread), until the receiver goes
    /// on on another thread because a handler blocked this one (the new thread takes the rest).
    /// </summary>
    public void OnReadable()
    {
        while (Volatile.Read(ref _closed) == 0 && RpalReceiver.Current is not null && Connection.Receive(out RpalMessage message) == 0)
        {
            if (message.Id == 0)
            {
                OnControl(in message);
                continue;
            }

            if (IntrospectionCodec.IsIntrospection(in message))
            {
                Introspection.Answer(this, in message);
                continue;
            }

            RpalServerCall call = Rent();
            int inflight = Interlocked.Increment(ref _inflight);
            try
            {
                call.Start(in message);
            }
            catch (RpalDecodeException e)
            {
                RpalLog.MalformedRequest(Server.Logger, ServiceName, Peer.ProcessId, e.Message);
                call.CompleteWithStatus(new Status(StatusCode.Internal, e.Message));
                continue;
            }

            if (RpalMetrics.ServerCallsObserved)
            {
                ObserveStart(call);
            }

            // Limits (RpalServerOptions): refused at once, never queued; the body is not read.
            if (inflight > Server.MaxCallsPerConnection)
            {
                call.CompleteWithStatus(new Status(StatusCode.ResourceExhausted,
                    $"{call.MethodFullName}: this client already has {Server.MaxCallsPerConnection} calls running on the server (RpalServerOptions.MaxConcurrentCallsPerConnection)."));
                continue;
            }

            if (call.PayloadBodySize > Server.MaxReceive)
            {
                call.CompleteWithStatus(RpalLimits.TooLargeReceived("request", call.MethodFullName, call.PayloadBodySize, Server.MaxReceive, "RpalServerOptions.MaxReceiveMessageSize"));
                continue;
            }

            if (call.PastDeadline)
            {
                call.CompleteWithStatus(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"));
                continue;
            }

            if (call.IsCancellable)
            {
                lock (_lock)
                {
                    _cancellable[call.CallId] = call;
                }
            }

            RpalServerCallContext? previous = RpalServerCallContext.Exchange(call.Context);
            try
            {
                Service.Dispatcher.Dispatch(call);
            }
            catch (Exception e)
            {
                call.CompleteWithException(e);
            }
            finally
            {
                RpalServerCallContext.Exchange(previous);
            }
        }
    }

    /// <summary>Sends the answer of <paramref name="call"/> and recycles it.</summary>
    public void Finish(RpalServerCall call, in RpalMessage reply)
    {
        if (call.Stream is { } stream)
        {
            // Out of the table first, so that no element is routed to it any more; then the end
            // marker, which the client must see before it trusts the reply to end the stream.
            lock (_lock)
            {
                _cancellable.Remove(call.CallId);
            }

            stream.Finish();
        }

        if (call.ObservedSince != 0)
        {
            RpalMetrics.ServerCallEnded(call.ObservedMethod, ServiceName, ReplyCodec.Code(in reply), call.ObservedSince);
        }

        int rc = Connection.Reply(call.CallId, in reply); // on failure the engine frees the payload
        if (rc < 0 && rc != -RpalErrno.ECONNRESET && rc != -RpalErrno.EBADF)
        {
            Server.ReportHandlerError(new RpalException(rc, "rpal_reply"));
        }

        if (call.IsCancellable)
        {
            lock (_lock)
            {
                _cancellable.Remove(call.CallId);
            }
        }

        call.Reset();
        lock (_lock)
        {
            _pool.Push(call);
        }

        if (Interlocked.Decrement(ref _inflight) == 0)
        {
            if (Volatile.Read(ref _closed) != 0)
            {
                Connection.Dispose();
            }

            Server.OnCallsDrained();
        }
    }

    /// <summary>The client hung up or died: cancel what it was waiting for.</summary>
    public void OnHangUp()
    {
        Interlocked.Exchange(ref _closed, 1);
        int inflight = InFlight;
        if (inflight > 0)
        {
            RpalLog.ClientDied(Server.Logger, ServiceName, inflight, Peer.ProcessId, Peer.UserId, Peer.Slot);
        }
        else
        {
            RpalLog.ClientDisconnected(Server.Logger, ServiceName, Peer.ProcessId, Peer.UserId, Peer.Slot);
        }

        CancelAll();
        if (InFlight == 0)
        {
            Connection.Dispose();
        }
    }

    public void CancelAll()
    {
        lock (_lock)
        {
            foreach (RpalServerCall call in _cancellable.Values.ToArray())
            {
                call.Cancel();
            }
        }
    }

    /// <summary>A one-way message from the client: a cancel, or a stream's element, end or credit (docs/wire.md, "What the server does with a request").</summary>
    private void OnControl(in RpalMessage message)
    {
        if (ControlCodec.TryRead(in message, out uint op) && op != ControlCodec.OpResponseHeaders) // headers come from servers only
        {
            // under the lock: Finish takes the call out (and recycles it) under it too
            lock (_lock)
            {
                if (_cancellable.TryGetValue(ControlCodec.CallId(in message), out RpalServerCall? call))
                {
                    if (op == ControlCodec.OpCancel)
                    {
                        call.Cancel();
                    }
                    else if (call.Stream is { } stream)
                    {
                        // the stream takes the element's payload (or releases it)
                        StreamInput input = stream.Core.Accept(in message, op, Server.MaxReceive);
                        if (input != StreamInput.Accepted)
                        {
                            FailStream(call, stream, in message, input);
                        }

                        return;
                    }
                }
            }
        }

        // not ours, a call that is over, or a cancel: nothing to keep
        if (message.Data != 0)
        {
            Connection.Release(in message);
        }
    }

    /// <summary>The client's stream message was refused (too large, or flow control broken): the call fails, the connection goes on.</summary>
    private void FailStream(RpalServerCall call, ServerStream stream, in RpalMessage message, StreamInput input)
    {
        RpcException failure;
        if (input == StreamInput.TooLarge)
        {
            failure = new(RpalLimits.TooLargeReceived("stream element", stream.MethodName, StreamCodec.PayloadBodySize(in message), Server.MaxReceive, "RpalServerOptions.MaxReceiveMessageSize"));
        }
        else
        {
            failure = StreamCore.ProtocolBroken("client");
            RpalLog.StreamProtocolViolation(Server.Logger, stream.MethodName, Peer.ProcessId, failure.StatusCode);
        }

        stream.Core.Close(failure);
        call.Fail(failure.Status);
    }

    // Out of line: only when someone listens to the server's call instruments.
    private void ObserveStart(RpalServerCall call)
    {
        RpalMethod? method = FindMethod(call.MethodId);
        call.ObservedMethod = method;
        call.ObservedSince = RpalMetrics.ServerCallStarting(method, ServiceName);
    }

    private RpalServerCall Rent()
    {
        lock (_lock)
        {
            if (_pool.TryPop(out RpalServerCall? call))
            {
                return call;
            }
        }

        var created = new RpalServerCall(this);
        lock (_lock)
        {
            _calls.Add(created);
        }

        return created;
    }

    /// <summary>The calls running now: method and when each started (for StopAsync's report; a snapshot, racing with their ends).</summary>
    public List<(string Method, long StartedAtMs)> RunningCalls()
    {
        var running = new List<(string, long)>();
        lock (_lock)
        {
            foreach (RpalServerCall call in _calls)
            {
                if (call.CallId != 0 && !_pool.Contains(call))
                {
                    running.Add((call.MethodFullName, call.StartedAtMs));
                }
            }
        }

        return running;
    }
}
