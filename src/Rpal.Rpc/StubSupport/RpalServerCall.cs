using System.Diagnostics;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Rpal.Rpc.Wire;
using Rpal.Runtime;

namespace Rpal.Rpc.Generated;

/// <summary>
/// One incoming call, as the generated dispatcher sees it: the method, the request body, the
/// cancellation token, and the ways to answer. Pooled by the server: valid until completed.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Pooled: Reset disposes the per-call token source.")]
public sealed partial class RpalServerCall
{
    private static readonly TimeSpan s_maxTimer = TimeSpan.FromMilliseconds(int.MaxValue - 1);
    // Exactly one of the two: the engine connection the call came on, or the gRPC call that
    // carries it when grpc-dotnet hosts the service (RpalServerCall.Grpc.cs).
    private readonly ServerConnection _connection = null!;
    private readonly GrpcInterop.GrpcServerCall? _grpc;
    private readonly PeerMemory _payload = new();
    private RpalMessage _request;
    private CancellationTokenSource? _cts;
    private RpalServerCallContext? _context;
    private Metadata? _headers;
    private Metadata? _responseHeaders; // a unary call's, sent with its reply (null: none, or empty)
    private int _responseHeadersWritten; // a unary call's WriteResponseHeadersAsync ran
    private long _deadline;
    private int _completed;

    // 1 once Cancel ran (the caller cancelled, hung up, or the server stopped): the token then
    // fired for that reason, not for the deadline. Written by Cancel's thread, read on completion.
    private int _cancelRequested;

    // Set by Fail before the token is cancelled: the status the call ends with.
    private Status? _failure;

    internal RpalServerCall(ServerConnection connection) => _connection = connection;

    /// <summary>When the metrics observe this call: its start's timestamp (else 0), and its method (null: unknown).</summary>
    internal long ObservedSince { get; set; }

    /// <inheritdoc cref="ObservedSince"/>
    internal RpalMethod? ObservedMethod { get; set; }

    /// <summary>When the request was taken (<see cref="Environment.TickCount64"/>), for the report of a handler StopAsync gives up on.</summary>
    internal long StartedAtMs { get; private set; }

    /// <summary>The wire id of the method called.</summary>
    public uint MethodId { get; private set; }

    /// <summary>
    /// Fires when the caller cancels the call or its deadline passes, and then also when the
    /// caller dies or the server stops. A call made without a deadline or a cancellable token
    /// gets <see cref="CancellationToken.None"/>.
    /// </summary>
    public CancellationToken CancellationToken => _cts?.Token ?? _grpc?.Context.CancellationToken ?? CancellationToken.None;

    internal ulong CallId => _request.Id;

    internal bool IsCancellable => _cts is not null;

    /// <summary>The call's stream, when the client opened one (request flag Stream).</summary>
    internal Streaming.ServerStream? Stream { get; private set; }

    internal string MethodFullName => _grpc?.MethodFullName ?? _connection.MethodName(MethodId);

    internal string PeerName => _connection.PeerName;

    internal DateTime DeadlineUtc => _deadline == 0
        ? DateTime.MaxValue
        : DateTime.UtcNow + Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _deadline);

    internal Metadata RequestHeaders => _headers ?? Metadata.Empty;

    internal RpalServerCallContext Context => _context ??= new RpalServerCallContext(this);

    /// <summary>Takes a new request; false when it is already past its deadline.</summary>
    internal void Start(in RpalMessage request)
    {
        _request = request;
        StartedAtMs = Environment.TickCount64;
        _completed = 0;
        _cancelRequested = 0;
        _failure = null;
        _headers = null;
        _responseHeaders = null;
        _responseHeadersWritten = 0;
        MethodId = RequestCodec.MethodId(in request);
        _deadline = RequestCodec.ReadDeadline(in request);
        if (RequestCodec.OpensStream(in request))
        {
            Stream = new Streaming.ServerStream(_connection.Connection, request.Id, MethodFullName, _connection.Server.MaxSend);
        }

        if (RequestCodec.IsCancellable(in request))
        {
            _cts = new CancellationTokenSource();
            if (_deadline != 0)
            {
                TimeSpan left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _deadline);
                if (left <= s_maxTimer) // farther than a timer reaches (24.8 days): never fires
                {
                    _cts.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
                }
            }
        }

        int payloadBody = RequestCodec.ReadPayloadBodyLength(in request);
        if (payloadBody >= 0)
        {
            _payload.Reset(request.Data, payloadBody);
            _headers = RequestCodec.ReadHeaders(in request);
        }
    }

    internal bool PastDeadline => _deadline != 0 && Stopwatch.GetTimestamp() >= _deadline;

    /// <summary>The size of a request body that came in a payload (0 for an inline one: at most 16 bytes).</summary>
    internal ulong PayloadBodySize => RequestCodec.PayloadBodySize(in _request);

    /// <summary>
    /// The client broke the protocol on this call (its stream): the call ends with
    /// <paramref name="status"/> whatever the handler's cancellation makes of it.
    /// </summary>
    internal void Fail(Status status)
    {
        _failure = status;
        Cancel();
    }

    internal void Cancel()
    {
        Volatile.Write(ref _cancelRequested, 1);
        try
        {
            _cts?.Cancel();
        }
        catch (AggregateException e)
        {
            _connection.Server.ReportHandlerError(e);
        }
    }

    /// <summary>
    /// <see cref="ServerCallContext.WriteResponseHeadersAsync"/>: a streaming call sends the
    /// headers at once, ahead of any element; a unary call sends them with its reply (its only
    /// message, as gRPC orders them). Once per call, before the first element or the answer.
    /// </summary>
    internal Task WriteResponseHeadersAsync(Metadata responseHeaders)
    {
        ArgumentNullException.ThrowIfNull(responseHeaders);
        if (_grpc is not null)
        {
            return _grpc.Context.WriteResponseHeadersAsync(responseHeaders);
        }

        if (Volatile.Read(ref _completed) != 0)
        {
            return Task.FromException(HeadersAlreadySent());
        }

        if (Stream is { } stream)
        {
            return stream.SendHeadersAsync(responseHeaders, CancellationToken);
        }

        if (Interlocked.Exchange(ref _responseHeadersWritten, 1) != 0)
        {
            return Task.FromException(HeadersAlreadySent());
        }

        // a copy: they are sent as they are now, whatever the handler does with its Metadata later
        var copy = new Metadata();
        foreach (Metadata.Entry entry in responseHeaders)
        {
            copy.Add(entry);
        }

        _responseHeaders = copy.Count > 0 ? copy : null;
        return Task.CompletedTask;
    }

    /// <summary>The failure of a second <see cref="WriteResponseHeadersAsync"/>, or of one after the first message or the answer.</summary>
    internal static InvalidOperationException HeadersAlreadySent() =>
        new("Response headers can only be sent once per call, before the first message.");

    /// <summary>
    /// Reads and checks the request body. A request holding a span (a ref struct) points into
    /// the caller's payload, or into this call's inline words: valid until the call is answered.
    /// </summary>
    public TRequest ReadRequest<TRequest>()
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
    {
        if (_grpc is not null)
        {
            var body = new RpalReader(GrpcRequest);
            return TRequest.Read(ref body);
        }

        if (!RequestCodec.HasPayloadBody(in _request))
        {
            var reader = new RpalReader(RequestCodec.InlineBody(ref _request));
            return TRequest.Read(ref reader);
        }

        var payload = new RpalReader(_payload);
        return TRequest.Read(ref payload);
    }

    /// <summary>Answers with <paramref name="response"/>.</summary>
    public void Complete<TResponse>(in TResponse response)
        where TResponse : struct, IRpalPayload<TResponse>
    {
        if (Volatile.Read(ref _completed) != 0)
        {
            ThrowCompletedTwice();
        }

        if (_grpc is not null)
        {
            CompleteGrpc(in response);
            return;
        }

        // a handler may answer with a status through its context, as in gRPC
        if (_context is { } context && context.Status.StatusCode != StatusCode.OK)
        {
            CompleteWithStatus(context.Status, context.TrailersIfAny);
            return;
        }

        RpalMessage reply;
        try
        {
            reply = Encode(in response);
        }
        catch (Exception e)
        {
            CompleteWithException(e); // the answer does not fit or does not encode: fail the call
            return;
        }

        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            new RpalOutgoingMessage(in reply).Dispose(); // never sent
            ThrowCompletedTwice();
        }

        _connection.Finish(this, in reply);
    }

    /// <summary>Answers a call that grpc-dotnet carries: the body as a gRPC message.</summary>
    private void CompleteGrpc<TResponse>(in TResponse response)
        where TResponse : struct, IRpalPayload<TResponse>
    {
        byte[] body;
        try
        {
            body = GrpcInterop.GrpcBodies.ToBytes(in response);
        }
        catch (Exception e)
        {
            CompleteWithException(e);
            return;
        }

        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            ThrowCompletedTwice();
        }

        _grpc!.Result.TrySetResult(body);
    }

    /// <summary>Encodes a successful reply within the server's send limit (docs/wire.md, "Reply").</summary>
    private RpalMessage Encode<TResponse>(in TResponse response)
        where TResponse : struct, IRpalPayload<TResponse>
    {
        int size = response.GetSize();
        if ((ulong)size > _connection.Server.MaxSend)
        {
            RpalLimits.ThrowTooLargeToSend("reply", MethodFullName, (ulong)size, _connection.Server.MaxSend, "RpalServerOptions.MaxSendMessageSize");
        }

        return ReplyCodec.EncodeOk(in response, size, _context?.TrailersIfAny, _responseHeaders);
    }

    /// <summary>Answers when <paramref name="pending"/> completes.</summary>
    public void CompleteWhenDone<TResponse, TValue>(ValueTask<TValue> pending)
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        if (pending.IsCompletedSuccessfully)
        {
            Complete(TResponse.FromValue(pending.Result));
            return;
        }

        _ = AwaitAsync<TResponse, TValue>(pending);
    }

    /// <summary>Answers when <paramref name="pending"/> completes.</summary>
    public void CompleteWhenDone(ValueTask pending)
    {
        if (pending.IsCompletedSuccessfully)
        {
            Complete(default(RpalVoid));
            return;
        }

        _ = AwaitAsync(pending);
    }

    /// <summary>Answers when <paramref name="pending"/> completes.</summary>
    public void CompleteWhenDone<TResponse, TValue>(Task<TValue> pending)
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        ArgumentNullException.ThrowIfNull(pending);
        CompleteWhenDone<TResponse, TValue>(new ValueTask<TValue>(pending));
    }

    /// <summary>Answers when <paramref name="pending"/> completes.</summary>
    public void CompleteWhenDone(Task pending)
    {
        ArgumentNullException.ThrowIfNull(pending);
        CompleteWhenDone(new ValueTask(pending));
    }

    /// <summary>Answers that the method does not exist (an older or newer client).</summary>
    public void CompleteUnimplemented() =>
        CompleteWithStatus(new Status(StatusCode.Unimplemented, $"Method {MethodId:x8} of {_grpc?.ServiceName ?? _connection.ServiceName} is not implemented by this server."));

    /// <summary>Answers with the status a handler's exception maps to.</summary>
    internal void CompleteWithException(Exception e)
    {
        bool canceled = _cts?.IsCancellationRequested == true;
        // The deadline's timer (CancelAfter, whole milliseconds) may fire just before the
        // deadline itself: a token that fired without Cancel fired for the deadline.
        bool deadlineExceeded = canceled && _deadline != 0 && (Volatile.Read(ref _cancelRequested) == 0 || PastDeadline);
        if (_grpc is not null)
        {
            canceled = _grpc.Context.CancellationToken.IsCancellationRequested;
            deadlineExceeded = canceled && _grpc.Context.Deadline <= DateTime.UtcNow;
        }

        Status status = _failure ?? StatusMapper.FromException(e, _grpc is null && _connection.Server.Options.EnableDetailedErrors, canceled, deadlineExceeded);
        if (_grpc is null)
        {
            LogFailure(e, status);
        }

        Metadata? trailers = (e as RpcException)?.Trailers is { Count: > 0 } t ? t : _context?.TrailersIfAny;
        CompleteWithStatus(status, trailers);
    }

    internal void CompleteWithStatus(Status status, Metadata? trailers = null)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        if (_grpc is not null)
        {
            _grpc.Result.TrySetException(new RpcException(status, trailers ?? new Metadata()));
            return;
        }

        RpalMessage reply = ReplyCodec.EncodeStatus(status, trailers, _responseHeaders);
        _connection.Finish(this, in reply);
    }

    private void LogFailure(Exception e, Status status)
    {
        if (e is RpalDecodeException)
        {
            Diagnostics.RpalLog.MalformedRequest(_connection.Server.Logger, _connection.ServiceName, _connection.Peer.ProcessId, $"{MethodFullName}: {e.Message}");
        }
        else if (e is not RpcException and not OperationCanceledException)
        {
            Diagnostics.RpalLog.HandlerFailed(_connection.Server.Logger, MethodFullName, status.StatusCode, e);
        }
    }

    /// <summary>Back to the pool: forget the request.</summary>
    internal void Reset()
    {
        ObservedSince = 0;
        ObservedMethod = null;
        Stream = null;
        _payload.Reset(0, 0);
        _request = default;
        _headers = null;
        _responseHeaders = null;
        _context?.Reset();
        if (_cts is not null)
        {
            _cts.Dispose();
            _cts = null;
        }
    }

    private async Task AwaitAsync<TResponse, TValue>(ValueTask<TValue> pending)
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        TValue value;
        try
        {
            value = await pending;
        }
        catch (Exception e)
        {
            CompleteWithException(e);
            return;
        }

        try
        {
            Complete(TResponse.FromValue(value));
        }
        catch (Exception e)
        {
            CompleteWithException(e);
        }
    }

    private async Task AwaitAsync(ValueTask pending)
    {
        try
        {
            await pending;
        }
        catch (Exception e)
        {
            CompleteWithException(e);
            return;
        }

        Complete(default(RpalVoid));
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowCompletedTwice() =>
        throw new InvalidOperationException("The call was already answered.");
}
