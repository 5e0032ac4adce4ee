using System.Diagnostics;
using System.Runtime.InteropServices;
using Grpc.Core;
using Rpal.Rpc.Wire;
using Rpal.Runtime;

namespace Rpal.Rpc.Generated;

/// <summary>
/// Sends the calls of a generated client through its <see cref="RpalChannel"/>: encodes the
/// request into the inline words or the arena, applies the deadline and headers, waits or
/// submits, decodes the reply or throws <see cref="RpcException"/>.
/// </summary>
public sealed partial class RpalClientInvoker
{
    // Exactly one of the two: the Rpal channel, or a gRPC transport (RpalGrpc.CreateClient).
    private readonly RpalChannel _channel = null!;
    private readonly GrpcInterop.GrpcClientTransport? _grpc;
    private readonly TimeSpan? _timeout;
    private readonly DateTime? _deadline;
    private readonly Metadata? _headers;
    private readonly CancellationToken _optionsToken;
    private static readonly double s_maxSeconds = TimeSpan.FromDays(24).TotalSeconds;

    // A gRPC CallInvoker's call keeps its status and trailers here instead of in the ambient scope.
    private readonly RpalCallScope? _scope;

    internal RpalClientInvoker(GrpcInterop.GrpcClientTransport grpc, CallOptions options)
    {
        _grpc = grpc;
        _deadline = options.Deadline;
        _headers = options.Headers;
        _optionsToken = options.CancellationToken;
    }

    internal RpalClientInvoker(RpalChannel channel, CallOptions options, RpalCallScope? scope = null)
    {
        _scope = scope;
        _channel = channel;
        _timeout = channel.Options.DefaultTimeout;
        _deadline = options.Deadline;
        _headers = options.Headers;
        _optionsToken = options.CancellationToken;
    }

    /// <summary>Calls <paramref name="method"/> and waits for its result.</summary>
    /// <remarks>
    /// The request may be a ref struct: it is encoded before this method returns and not kept.
    /// </remarks>
    public TValue Call<TRequest, TResponse, TValue>(RpalMethod method, in TRequest request, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        ArgumentNullException.ThrowIfNull(method);
        if (_reconnecting is not null)
        {
            return CallReconnecting<TRequest, TResponse, TValue>(method, in request, cancellationToken); // Hosting/
        }

        if (!cancellationToken.CanBeCanceled)
        {
            cancellationToken = _optionsToken;
        }

        if (_grpc is not null)
        {
            RpalCallScope? current = RpalCallScope.Current;
            return _grpc.Call<TResponse, TValue>(method, GrpcInterop.GrpcBodies.ToBytes(in request), GrpcOptions(current, cancellationToken), current);
        }

        if (cancellationToken.CanBeCanceled)
        {
            // a token can end the wait at any time: wait on the asynchronous path
            return CallAsync<TRequest, TResponse, TValue>(method, request, cancellationToken).AsTask().GetAwaiter().GetResult();
        }

        long observed = Diagnostics.RpalMetrics.ClientCallStarting(method); // 0: nobody listens
        try
        {
            TValue value = CallBlocking<TRequest, TResponse, TValue>(method, in request);
            Diagnostics.RpalMetrics.ClientCallEnded(method, StatusCode.OK, observed);
            return value;
        }
        catch (Exception e) when (observed != 0 && Diagnostics.RpalMetrics.ClientCallFailed(method, e, observed))
        {
            throw; // not reached: the filter records the failure and declines
        }
    }

    /// <summary>The blocking call on an Rpal channel, without a cancellable token.</summary>
    private TValue CallBlocking<TRequest, TResponse, TValue>(RpalMethod method, in TRequest request)
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        RpalCallScope? scope = _scope ?? RpalCallScope.Current;
        long deadline = Deadline(scope);
        RpalOutgoingMessage message;
        try
        {
            message = Encode(method, in request, scope, deadline, cancellable: false);
        }
        catch (Exception e)
        {
            throw EncodeFailure(e, method);
        }

        // This thread blocks from here on: if it is a receiver's, the receiver goes on on
        // another thread, so that what the call needs (a call back from its server, say) is served.
        RpalReceiver.HandOff();
        if (!_channel.Limiter.TryEnter())
        {
            EnterSlow(ref message, deadline, method, CancellationToken.None);
        }

        int timeoutMs = -1;
        if (deadline != 0)
        {
            double left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline).TotalMilliseconds;
            timeoutMs = left <= 0 ? 0 : (int)Math.Min(Math.Ceiling(left), int.MaxValue);
        }

        int rc;
        RpalCompletion done;
        try
        {
            rc = _channel.CallBlocking(in message.Message, timeoutMs, out done);
        }
        catch
        {
            _channel.Limiter.Exit();
            throw;
        }

        message.Sent(rc);
        message.Dispose(); // refused (-EINVAL, -EBADF): still ours

        if (rc == 0)
        {
            // Past its deadline; the engine still counts it (and so does the limiter) until its
            // late reply, or the connection's end, frees its slot (RpalChannel.OnAbandonedCallEnded).
            throw StatusMapper.FromErrno(-RpalErrno.ETIMEDOUT, method);
        }

        _channel.Limiter.Exit();
        if (rc < 0)
        {
            throw StatusMapper.FromErrno(rc, method);
        }

        if (done.Result < 0)
        {
            throw StatusMapper.FromErrno(done.Result, method);
        }

        return _channel.ReadReply<TResponse, TValue>(method, ref done.Reply, scope);
    }

    /// <summary>Calls <paramref name="method"/> without blocking.</summary>
    /// <remarks>
    /// The request is encoded before this method returns (so it may be a ref struct); only the
    /// reply is awaited.
    /// </remarks>
    public ValueTask<TValue> CallAsync<TRequest, TResponse, TValue>(RpalMethod method, in TRequest request, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        ArgumentNullException.ThrowIfNull(method);
        if (_reconnecting is not null)
        {
            return CallAsyncReconnecting<TRequest, TResponse, TValue>(method, in request, cancellationToken); // Hosting/
        }

        if (!cancellationToken.CanBeCanceled)
        {
            cancellationToken = _optionsToken;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromException<TValue>(new RpcException(new Status(StatusCode.Cancelled, "Cancelled")));
        }

        if (_grpc is not null)
        {
            RpalCallScope? current = RpalCallScope.Current;
            return _grpc.CallAsync<TResponse, TValue>(method, GrpcInterop.GrpcBodies.ToBytes(in request), GrpcOptions(current, cancellationToken), current);
        }

        long observed = Diagnostics.RpalMetrics.ClientCallStarting(method); // 0: nobody listens
        RpalCallScope? scope = _scope ?? RpalCallScope.Current;
        long deadline = Deadline(scope);
        RpalOutgoingMessage message;
        try
        {
            message = Encode(method, in request, scope, deadline, cancellationToken.CanBeCanceled);
        }
        catch (Exception e)
        {
            Exception failure = EncodeFailure(e, method);
            Diagnostics.RpalMetrics.ClientCallEnded(method, Diagnostics.RpalMetrics.CodeOf(failure), observed);
            return ValueTask.FromException<TValue>(failure);
        }

        if (!_channel.Limiter.TryEnter())
        {
            return SubmitAfterWaitAsync<TResponse, TValue>(method, message, scope, deadline, observed, cancellationToken);
        }

        return Submit<TResponse, TValue>(method, message, scope, deadline, observed, cancellationToken);
    }

    /// <summary>Submits an encoded call that holds a slot of the channel's limiter; takes the request (moved in).</summary>
    private ValueTask<TValue> Submit<TResponse, TValue>(RpalMethod method, RpalOutgoingMessage message, RpalCallScope? scope, long deadline, long observed, CancellationToken cancellationToken)
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        PendingCall<TResponse, TValue> pending = PendingCall<TResponse, TValue>.Rent();
        pending.Begin(_channel, method, scope, observed);
        short version = pending.Version;
        int rc;
        ulong callId;
        message.Message.Flags = RpalMessage.DontWait; // never block the caller's thread on a full ring
        try
        {
            rc = _channel.SubmitAndSpin(in message.Message, pending, out callId);
        }
        catch (Exception e) when (Diagnostics.RpalMetrics.ClientCallFailed(method, e, observed))
        {
            throw; // not reached: the filter declines
        }
        catch
        {
            _channel.Limiter.Exit();
            throw;
        }

        if (rc == -RpalErrno.EAGAIN)
        {
            return SubmitWhenRoomAsync(method, message, pending, version, deadline, cancellationToken);
        }

        message.Sent(rc);
        message.Dispose(); // refused (-EINVAL, -EBADF): still ours
        Submitted(method, rc, callId, pending, deadline, cancellationToken);
        return new ValueTask<TValue>(pending, version);
    }

    /// <summary>What follows a submit that was not refused for want of room.</summary>
    private void Submitted<TResponse, TValue>(RpalMethod method, int rc, ulong callId, PendingCall<TResponse, TValue> pending, long deadline, CancellationToken cancellationToken)
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        if (rc < 0)
        {
            _channel.Limiter.Exit(); // no completion follows
            pending.FailSubmit(StatusMapper.FromErrno(rc, method));
        }
        else if (rc == 0) // not answered within the spin (1: answered, the result is set)
        {
            pending.Watch(callId, deadline, cancellationToken);
        }
    }

    /// <summary>
    /// The slow path of <see cref="Submit"/>: the request ring is full (or every call slot of
    /// the engine is taken). Waits for room without blocking a thread, bounded by the deadline
    /// and the token, then submits.
    /// </summary>
    private async ValueTask<TValue> SubmitWhenRoomAsync<TResponse, TValue>(RpalMethod method, RpalOutgoingMessage message, PendingCall<TResponse, TValue> pending, short version, long deadline, CancellationToken cancellationToken)
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        using CancellationTokenSource bound = Bound(deadline, cancellationToken);
        int rc;
        ulong callId;
        try
        {
            do
            {
                Task room = _channel.Connection.WaitForRoomAsync(bound.Token);
                rc = _channel.Submit(in message.Message, pending, out callId);
                if (rc != -RpalErrno.EAGAIN)
                {
                    break;
                }

                await room.ConfigureAwait(false);
            }
            while (true);
        }
        catch (OperationCanceledException)
        {
            _channel.Limiter.Exit();
            message.Dispose();
            pending.FailSubmit(BoundFired(cancellationToken));
            return await new ValueTask<TValue>(pending, version).ConfigureAwait(false);
        }

        message.Sent(rc);
        message.Dispose(); // refused (-EINVAL, -EBADF): still ours
        Submitted(method, rc, callId, pending, deadline, cancellationToken);
        return await new ValueTask<TValue>(pending, version).ConfigureAwait(false);
    }

    /// <summary>A token that fires at <paramref name="deadline"/> (0: none) or with <paramref name="cancellationToken"/>.</summary>
    private static CancellationTokenSource Bound(long deadline, CancellationToken cancellationToken)
    {
        var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (deadline != 0)
        {
            TimeSpan left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            bound.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }

        return bound;
    }

    /// <summary>The status of a wait that <see cref="Bound"/> ended.</summary>
    private static RpcException BoundFired(CancellationToken cancellationToken) =>
        new(cancellationToken.IsCancellationRequested
            ? new Status(StatusCode.Cancelled, "Cancelled")
            : new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"));

    /// <summary>
    /// The slow path of <see cref="CallAsync"/>: the channel has MaxConcurrentCalls in flight.
    /// Waits for a slot (bounded by the deadline and the token), then submits.
    /// </summary>
    private async ValueTask<TValue> SubmitAfterWaitAsync<TResponse, TValue>(RpalMethod method, RpalOutgoingMessage message, RpalCallScope? scope, long deadline, long observed, CancellationToken cancellationToken)
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        try
        {
            await _channel.Limiter.EnterAsync(deadline, method, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Diagnostics.RpalMetrics.ClientCallEnded(method, Diagnostics.RpalMetrics.CodeOf(e), observed);
            message.Dispose();
            throw;
        }

        return await Submit<TResponse, TValue>(method, message, scope, deadline, observed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The slow path of a blocking call (and of a stream started for a gRPC CallInvoker): waits
    /// for a slot; frees the encoded request when it throws.
    /// </summary>
    private void EnterSlow(ref RpalOutgoingMessage message, long deadline, RpalMethod method, CancellationToken cancellationToken)
    {
        try
        {
            _channel.Limiter.Enter(deadline, method, cancellationToken);
        }
        catch
        {
            message.Dispose();
            throw;
        }
    }

    /// <summary>Calls a method without a result without blocking.</summary>
    /// <remarks>The request is encoded before this method returns, as in <see cref="CallAsync"/>.</remarks>
    public ValueTask CallVoidAsync<TRequest>(RpalMethod method, in TRequest request, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
    {
        ValueTask<RpalVoid> call = CallAsync<TRequest, RpalVoid, RpalVoid>(method, in request, cancellationToken);
        if (call.IsCompletedSuccessfully)
        {
            call.GetAwaiter().GetResult(); // consume it: returns the pending call to its pool
            return default;
        }

        return AwaitVoid(call);
    }

    private static async ValueTask AwaitVoid(ValueTask<RpalVoid> call) => await call.ConfigureAwait(false);

    /// <summary>
    /// The deadline as a CLOCK_MONOTONIC timestamp (Stopwatch ticks are ns on Linux), or 0 for
    /// none; a deadline more than 24 days away counts as none (no timer reaches it).
    /// </summary>
    private long Deadline(RpalCallScope? scope)
    {
        double seconds;
        if ((scope?.Deadline ?? _deadline) is { } d && d != DateTime.MaxValue)
        {
            seconds = (d.ToUniversalTime() - DateTime.UtcNow).TotalSeconds;
        }
        else if (_timeout is { } t)
        {
            seconds = t.TotalSeconds;
        }
        else
        {
            return 0;
        }

        return seconds > s_maxSeconds ? 0 : Stopwatch.GetTimestamp() + (long)(Math.Max(seconds, 0) * Stopwatch.Frequency);
    }

    /// <summary>The options of a call over gRPC: the scope's headers and deadline, else the client's.</summary>
    private CallOptions GrpcOptions(RpalCallScope? scope, CancellationToken cancellationToken) =>
        new(scope?.RequestHeaders ?? _headers, scope?.Deadline ?? _deadline, cancellationToken);

    /// <summary>An encoding failure as the caller sees it.</summary>
    private static Exception EncodeFailure(Exception e, RpalMethod method) => e switch
    {
        RpalException { Errno: RpalErrno.ENOMEM } => new RpcException(new Status(StatusCode.ResourceExhausted,
            $"{method.FullName}: the request does not fit in this process's arena (RpalEngineOptions.ArenaSize).", e)),
        RpalException r => new RpcException(new Status(StatusCode.Internal, $"{method.FullName}: {r.Message}", e)),
        _ => e,
    };

    /// <summary>Encodes a request within the channel's send limit (docs/wire.md, "Request").</summary>
    private RpalOutgoingMessage Encode<TRequest>(RpalMethod method, in TRequest request, RpalCallScope? scope, long deadline, bool cancellable, uint streamFlag = 0)
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
    {
        int size = request.GetSize();
        if ((ulong)size > _channel.MaxSend)
        {
            RpalLimits.ThrowTooLargeToSend("request", method.FullName, (ulong)size, _channel.MaxSend, "RpalChannelOptions.MaxSendMessageSize");
        }

        uint flags = (cancellable ? RequestCodec.Cancellable : 0) | streamFlag;
        return new RpalOutgoingMessage(RequestCodec.Encode(method.Id, in request, size, scope?.RequestHeaders ?? _headers, deadline, flags));
    }
}
