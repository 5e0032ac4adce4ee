using System.Diagnostics;
using Grpc.Core;
using Rpal.Rpc.Diagnostics;
using Rpal.Rpc.Generated;
using Rpal.Rpc.Wire;
using Rpal.Runtime;

namespace Rpal.Rpc.Streaming;

/// <summary>
/// A streaming call on the client: the submitted call whose reply carries the final status,
/// and the stream of elements both ways (docs/streaming.md). Not pooled: one per call.
/// </summary>
/// <remarks>
/// The server sends <see cref="ControlCodec.OpStreamEnd"/> after its last element and before its
/// reply; the two travel on different rings, so the reply may arrive first. Reading ends at
/// the end marker, and then reports the reply's status. The call stays in its channel's stream
/// table until the end marker arrives (or the connection fails), so late elements are released.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Finish disposes the registrations and the source.")]
internal sealed class ClientStreamCall : PendingCall
{
    private readonly RpalChannel _channel;
    private readonly RpalMethod _method;
    private readonly RpalCallScope? _scope;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Metadata> _responseHeaders = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _endedSource = new();
    private StreamCore? _core;
    private CancellationTokenRegistration _tokenRegistration;
    private Status _status;
    private Metadata _trailers = Metadata.Empty;
    private byte[]? _body;
    private Exception? _localFailure;
    private int _ended; // 1 once the final status is known (reply, failure, or local end)
    private int _writing; // 1 while a write is in progress
    private bool _connectionFailed; // under _lock
    private bool _aborted; // under _lock
    private readonly long _observed; // RpalMetrics.ClientCallStarting's timestamp; 0: not observed

    public ClientStreamCall(RpalChannel channel, RpalMethod method, RpalCallScope? scope)
    {
        _channel = channel;
        _method = method;
        _scope = scope;
        _observed = Diagnostics.RpalMetrics.ClientCallStarting(method);
    }

    public RpalMethod Method => _method;

    /// <summary>Completes when the final status is known.</summary>
    public Task Finished => _finished.Task;

    /// <summary>Fires when the final status is known: the request stream's producer stops.</summary>
    public CancellationToken Ended => _endedSource.Token;

    /// <summary>
    /// The server's response headers: they come before its first element (an element or the
    /// end of its elements without them means empty ones). Faults with the call's status when the
    /// call ends without the server having answered (cancelled, past its deadline, the server gone).
    /// </summary>
    public Task<Metadata> ResponseHeaders => _responseHeaders.Task;

    /// <summary>The final status (valid once <see cref="Finished"/> completed).</summary>
    public Status Status => _status;

    /// <summary>The server's trailers (valid once <see cref="Finished"/> completed).</summary>
    public Metadata Trailers => _trailers;

    internal StreamCore? Core => Volatile.Read(ref _core);

    /// <summary>
    /// Submits the call, which holds a slot of the channel's <see cref="CallLimiter"/> (given
    /// back at its completion, or here when the submit fails); throws <see cref="RpcException"/>
    /// when it cannot start. False, without waiting, when the connection has no room for the
    /// request now (nothing was taken: the caller waits for room and starts again).
    /// </summary>
    public bool Start(in RpalMessage request, long deadline, CancellationToken cancellationToken)
    {
        int rc;
        try
        {
            rc = _channel.SubmitStream(in request, this);
        }
        catch
        {
            _channel.Limiter.Exit();
            throw;
        }

        if (rc == -RpalErrno.EAGAIN)
        {
            return false;
        }

        if (rc < 0)
        {
            _channel.Limiter.Exit();
            throw StatusMapper.FromErrno(rc, _method);
        }

        if (deadline != 0)
        {
            DeadlineTimer.Schedule(this, deadline);
        }

        if (cancellationToken.CanBeCanceled)
        {
            _tokenRegistration = cancellationToken.UnsafeRegister(
                static s => ((ClientStreamCall)s!).Abort(new Status(StatusCode.Cancelled, "Cancelled")), this);
        }

        if (Volatile.Read(ref _ended) != 0)
        {
            DisposeWatches(); // it ended while we registered: Finish may have missed them
        }

        return true;
    }

    /// <summary>
    /// The call was submitted and has its id (under the channel's stream-table lock, before any
    /// element can be routed to it).
    /// </summary>
    public void Attach(StreamCore core)
    {
        bool aborted;
        lock (_lock)
        {
            _core = core;
            aborted = _aborted;
            if (_connectionFailed)
            {
                core.Close(FinalException());
                return;
            }
        }

        if (aborted)
        {
            _channel.SendCancel(core.CallId); // it was aborted while being submitted
            core.Close(FinalException());
        }
    }

    /// <summary>An element, the end marker or credit from the server (completion thread).</summary>
    public void OnStreamMessage(in RpalMessage message, uint op)
    {
        if (op == ControlCodec.OpResponseHeaders)
        {
            OnResponseHeaders(in message);
            return;
        }

        if (op is ControlCodec.OpStreamMessage or ControlCodec.OpStreamEnd)
        {
            _responseHeaders.TrySetResult(new Metadata()); // the server wrote none before answering
        }

        switch (_core!.Accept(in message, op, _channel.MaxReceive))
        {
            case StreamInput.TooLarge: // refused unread: the call ends here, the server is told
                Abort(RpalLimits.TooLargeReceived("stream element", _method.FullName, StreamCodec.PayloadBodySize(in message), _channel.MaxReceive, "RpalChannelOptions.MaxReceiveMessageSize"));
                break;
            case StreamInput.ProtocolBroken:
                Abort(StreamCore.ProtocolBroken("server").Status);
                break;
        }
    }

    /// <summary>The server's response headers (docs/wire.md, "Streams"): once, before its first element.</summary>
    private void OnResponseHeaders(in RpalMessage message)
    {
        Metadata? headers = null;
        string? broken = null;
        using (var received = new RpalReceivedMessage(_channel.Connection, in message))
        {
            try
            {
                headers = ControlCodec.ReadResponseHeaders(in received.Message);
            }
            catch (RpalDecodeException e)
            {
                broken = e.Message;
            }
        }

        if (headers is not null && _responseHeaders.TrySetResult(headers))
        {
            if (_scope is not null)
            {
                _scope.ResponseHeaders = headers;
            }

            return;
        }

        if (Volatile.Read(ref _ended) != 0 && broken is null)
        {
            return; // ended here first (headers faulted with its status): nothing more to do
        }

        broken ??= "response headers after the first message, or twice";
        RpalLog.MalformedReply(_channel.Logger, _method.FullName, broken);
        Abort(new Status(StatusCode.Internal, $"{_method.FullName}: {broken}"));
    }

    /// <summary>The reply (or the connection's failure) arrived (completion thread).</summary>
    public override void OnCompletion(in RpalCompletion completion)
    {
        _channel.Limiter.Exit(); // the engine counts the call no more
        Status status;
        Metadata? trailers = null;
        byte[]? body = null;
        if (completion.Result < 0)
        {
            status = StatusMapper.FromErrno(completion.Result, _method).Status;
        }
        else
        {
            RpalMessage reply = completion.Reply;
            using var received = new RpalReceivedMessage(_channel.Connection, in reply);
            try
            {
                status = _channel.ParseReply(ref reply, _method, out trailers, out _, out ReadOnlySpan<byte> bytes); // a stream's headers come before its elements
                if (status.StatusCode == StatusCode.OK)
                {
                    body = bytes.ToArray();
                }
            }
            catch (RpalDecodeException e)
            {
                status = new Status(StatusCode.Internal, $"{_method.FullName}: {e.Message}");
            }
        }

        Finish(status, trailers, body, local: null);
        if (completion.Result < 0)
        {
            FaultResponseHeaders();
            // nothing more comes, no end marker either
            StreamCore? core;
            lock (_lock)
            {
                _connectionFailed = true;
                core = _core;
            }

            core?.Close(FinalException());
            if (core is not null)
            {
                _channel.ForgetStream(core.CallId);
            }
        }
    }

    /// <summary>
    /// Ends the call here (cancellation, deadline, a failed request stream, an enumeration
    /// abandoned early): the server is told, reads and writes fail with <paramref name="status"/>.
    /// </summary>
    public void Abort(Status status, Exception? cause = null)
    {
        if (!Finish(status, null, null, cause))
        {
            return;
        }

        FaultResponseHeaders();

        StreamCore? core;
        lock (_lock)
        {
            _aborted = true;
            core = _core;
        }

        if (core is not null)
        {
            _channel.SendCancel(core.CallId);
            core.Close(FinalException());
        }
    }

    /// <summary>
    /// The caller is done with the call (an enumerator or a gRPC call disposed): gives back the
    /// element read last and, if the call is still running, cancels it.
    /// </summary>
    public void Dispose(string detail)
    {
        Core?.ReleaseCurrent();
        if (!Finished.IsCompleted)
        {
            Abort(new Status(StatusCode.Cancelled, detail));
        }
    }

    /// <summary>Reads the next element. False at the end of a stream the server ended with OK.</summary>
    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        StreamCore core = _core!;
        bool more;
        try
        {
            more = await core.MoveNextAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abort(new Status(StatusCode.Cancelled, "Cancelled"));
            throw FinalException();
        }

        if (more)
        {
            return true;
        }

        await _finished.Task.ConfigureAwait(false);
        if (_status.StatusCode != StatusCode.OK)
        {
            throw FinalException();
        }

        return false;
    }

    /// <summary>Decodes the element read last (valid until the next read).</summary>
    public T Current<TElement, T>()
        where TElement : struct, IRpalResponse<TElement, T>
    {
        try
        {
            return StreamCodec.Decode<TElement, T>(in _core!.Current);
        }
        catch (RpalDecodeException e)
        {
            var status = new Status(StatusCode.Internal, $"{_method.FullName}: {e.Message}");
            Abort(status);
            throw new RpcException(status);
        }
    }

    /// <summary>Sends one element, waiting for flow-control credit; takes the element's payload (frees it when not sent).</summary>
    public async ValueTask WriteAsync(RpalOutgoingMessage element, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _writing, 1) != 0)
        {
            element.Dispose();
            throw new InvalidOperationException("A write is already in progress: await each write before the next.");
        }

        try
        {
            if (Volatile.Read(ref _ended) != 0)
            {
                element.Dispose();
                throw WriteAfterEnd();
            }

            int rc;
            try
            {
                rc = await _core!.SendAsync(element, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw WriteAfterEnd();
            }

            if (rc < 0)
            {
                throw StatusMapper.FromErrno(rc, _method);
            }
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }

    /// <summary>Half-closes: the server's reader sees the end of the client's elements.</summary>
    public void CompleteWriting()
    {
        if (Volatile.Read(ref _ended) != 0)
        {
            return; // the call is over: nothing to tell
        }

        int rc = _core!.SendEnd();
        if (rc < 0)
        {
            throw StatusMapper.FromErrno(rc, _method);
        }
    }

    /// <summary>
    /// Sends every element of <paramref name="input"/>, then half-closes. A failing input ends the
    /// call (the caller sees the input's exception); a call that ends first stops the sending.
    /// </summary>
    public async Task PumpAsync<TElement, T>(IAsyncEnumerable<T> input, CancellationToken cancellationToken)
        where TElement : struct, IRpalResponse<TElement, T>
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _endedSource.Token);
        try
        {
            await foreach (T item in input.WithCancellation(linked.Token).ConfigureAwait(false))
            {
                var element = new RpalOutgoingMessage(StreamCodec.Encode(TElement.FromValue(item), _core!.CallId));
                await WriteAsync(element, cancellationToken).ConfigureAwait(false);
            }

            CompleteWriting();
        }
        catch (Exception) when (Volatile.Read(ref _ended) != 0)
        {
            // the call ended first: its status is what the caller sees
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abort(new Status(StatusCode.Cancelled, "Cancelled"));
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
        {
            Abort(e.Status, e); // an element larger than MaxSendMessageSize
        }
#pragma warning disable CA1031 // The input's failure ends the call; the caller sees it there.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Abort(new Status(StatusCode.Cancelled, $"The request stream of {_method.FullName} failed: {e.Message}"), e);
        }
    }

    /// <summary>The single result of a client-streaming call.</summary>
    public async ValueTask<TValue> ResultAsync<TResponse, TValue>()
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        await _finished.Task.ConfigureAwait(false);
        if (_status.StatusCode != StatusCode.OK)
        {
            throw FinalException();
        }

        try
        {
            var reader = new RpalReader(_body);
            return TResponse.Read(ref reader).Value;
        }
        catch (RpalDecodeException e)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"{_method.FullName}: {e.Message}", e));
        }
    }

    /// <summary>The exception a reader or the result's awaiter sees for the final status.</summary>
    public Exception FinalException() =>
        _localFailure ?? new RpcException(_status, _trailers);

    private RpcException WriteAfterEnd() =>
        _status.StatusCode == StatusCode.OK
            ? new RpcException(new Status(StatusCode.FailedPrecondition, $"{_method.FullName}: the call is complete; the server takes no more elements."))
            : new RpcException(_status, _trailers);

    /// <summary>Records the final status once. True for the caller that set it.</summary>
    private bool Finish(Status status, Metadata? trailers, byte[]? body, Exception? local)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return false;
        }

        _status = status;
        _trailers = trailers ?? Metadata.Empty;
        _body = body;
        _localFailure = local;
        Diagnostics.RpalMetrics.ClientCallEnded(_method, status.StatusCode, _observed);
        if (_scope is not null)
        {
            _scope.Status = status;
            _scope.ResponseTrailers = trailers;
        }

        DisposeWatches();
        _finished.TrySetResult();
        try
        {
            _endedSource.Cancel();
        }
        catch (AggregateException)
        {
            // a producer's cancellation callback threw: the call is over anyway
        }

        return true;
    }

    /// <summary>The call ended without the server's headers (and without its answer, or with a broken one): their task fails with the call's status.</summary>
    private void FaultResponseHeaders()
    {
        if (_responseHeaders.TrySetException(new RpcException(_status, _trailers)))
        {
            _ = _responseHeaders.Task.Exception; // observed: most callers never ask for headers
        }
    }

    private void DisposeWatches()
    {
        _tokenRegistration.Dispose();
        DeadlineTimer.Cancel(this);
    }

    /// <summary>
    /// The deadline passed: the completion receiver aborts the call (the abort runs the request
    /// stream's cancellation callbacks, which must not hold the deadline thread).
    /// </summary>
    protected internal override void Fire() =>
        ChannelCompletions.Shared.Post(static s => ((ClientStreamCall)s!).Abort(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded")), this);
}
