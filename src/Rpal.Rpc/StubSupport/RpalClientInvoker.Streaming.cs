using Grpc.Core;
using Rpal.Rpc.Streaming;
using Rpal.Rpc.Wire;
using Rpal.Runtime;

namespace Rpal.Rpc.Generated;

/// <summary>Streaming calls (docs/streaming.md).</summary>
public sealed partial class RpalClientInvoker
{
    /// <summary>
    /// A server-streaming call: the call starts when the result is enumerated (each enumeration
    /// is a call), and each element the server writes arrives in order. Ending the enumeration
    /// early cancels the call. A <see cref="ReadOnlyMemory{T}"/> element read from the server's
    /// arena is valid until the next <c>MoveNextAsync</c>.
    /// </summary>
    public IAsyncEnumerable<TValue> ServerStreaming<TRequest, TElement, TValue>(RpalMethod method, TRequest request, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>
        where TElement : struct, IRpalResponse<TElement, TValue>
    {
        ArgumentNullException.ThrowIfNull(method);
        if (_reconnecting is not null)
        {
            return StreamReconnecting(invoker => invoker.ServerStreaming<TRequest, TElement, TValue>(method, request, cancellationToken), CancellationToken.None); // Hosting/
        }

        RpalCallScope? scope = _scope ?? RpalCallScope.Current;
        if (_grpc is not null)
        {
            return _grpc.ServerStreaming<TElement, TValue>(method, GrpcInterop.GrpcBodies.ToBytes(in request), GrpcOptions(scope, MethodToken(cancellationToken)), scope, CancellationToken.None);
        }

        return new ResponseStream<TElement, TValue>(
            token => StartStreamAsync(method, request, scope, token), pump: null, MethodToken(cancellationToken));
    }

    /// <summary>
    /// A client-streaming call: sends every element of <paramref name="input"/> (flow-controlled:
    /// a slow server makes the enumeration wait), then half-closes, and returns the server's
    /// result. The call ends when the server answers, even before the input is exhausted.
    /// </summary>
    public ValueTask<TValue> ClientStreamingAsync<TRequest, TInElement, TIn, TResponse, TValue>(RpalMethod method, TRequest request, IAsyncEnumerable<TIn> input, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>
        where TInElement : struct, IRpalResponse<TInElement, TIn>
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(input);
        if (_reconnecting is not null)
        {
            return ClientStreamingReconnecting<TRequest, TInElement, TIn, TResponse, TValue>(method, request, input, cancellationToken); // Hosting/
        }

        cancellationToken = MethodToken(cancellationToken);
        if (_grpc is not null)
        {
            RpalCallScope? current = RpalCallScope.Current;
            return _grpc.ClientStreamingAsync<TInElement, TIn, TResponse, TValue>(method, GrpcInterop.GrpcBodies.ToBytes(in request), input, GrpcOptions(current, cancellationToken), current);
        }

        ValueTask<ClientStreamCall> starting;
        try
        {
            starting = StartStreamAsync(method, request, _scope ?? RpalCallScope.Current, cancellationToken);
        }
        catch (Exception e)
        {
            return ValueTask.FromException<TValue>(e);
        }

        if (!starting.IsCompletedSuccessfully)
        {
            return ClientStreamingAfterWaitAsync<TInElement, TIn, TResponse, TValue>(starting, input, cancellationToken);
        }

        ClientStreamCall call = starting.Result;
        _ = call.PumpAsync<TInElement, TIn>(input, cancellationToken);
        return call.ResultAsync<TResponse, TValue>();
    }

    /// <summary>A client-streaming call that waited for a slot of the channel's limiter.</summary>
    private static async ValueTask<TValue> ClientStreamingAfterWaitAsync<TInElement, TIn, TResponse, TValue>(ValueTask<ClientStreamCall> starting, IAsyncEnumerable<TIn> input, CancellationToken cancellationToken)
        where TInElement : struct, IRpalResponse<TInElement, TIn>
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        ClientStreamCall call = await starting.ConfigureAwait(false);
        _ = call.PumpAsync<TInElement, TIn>(input, cancellationToken);
        return await call.ResultAsync<TResponse, TValue>().ConfigureAwait(false);
    }

    /// <summary>A client-streaming call of a method without a result; see <see cref="ClientStreamingAsync"/>.</summary>
    public ValueTask ClientStreamingVoidAsync<TRequest, TInElement, TIn>(RpalMethod method, TRequest request, IAsyncEnumerable<TIn> input, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>
        where TInElement : struct, IRpalResponse<TInElement, TIn>
    {
        ValueTask<RpalVoid> call = ClientStreamingAsync<TRequest, TInElement, TIn, RpalVoid, RpalVoid>(method, request, input, cancellationToken);
        return call.IsCompletedSuccessfully ? default : AwaitVoid(call);
    }

    /// <summary>
    /// A bidirectional-streaming call: starts when the result is enumerated; <paramref name="input"/>
    /// is sent (then half-closed) while the server's elements are read. Ending the enumeration
    /// early cancels the call and stops the input's enumeration.
    /// </summary>
    public IAsyncEnumerable<TOut> DuplexStreaming<TRequest, TInElement, TIn, TOutElement, TOut>(RpalMethod method, TRequest request, IAsyncEnumerable<TIn> input, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>
        where TInElement : struct, IRpalResponse<TInElement, TIn>
        where TOutElement : struct, IRpalResponse<TOutElement, TOut>
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(input);
        if (_reconnecting is not null)
        {
            return StreamReconnecting(invoker => invoker.DuplexStreaming<TRequest, TInElement, TIn, TOutElement, TOut>(method, request, input, cancellationToken), CancellationToken.None); // Hosting/
        }

        RpalCallScope? scope = _scope ?? RpalCallScope.Current;
        if (_grpc is not null)
        {
            return _grpc.DuplexStreaming<TInElement, TIn, TOutElement, TOut>(method, GrpcInterop.GrpcBodies.ToBytes(in request), input, GrpcOptions(scope, MethodToken(cancellationToken)), scope, CancellationToken.None);
        }

        return new ResponseStream<TOutElement, TOut>(
            token => StartStreamAsync(method, request, scope, token),
            (call, token) => call.PumpAsync<TInElement, TIn>(input, token),
            MethodToken(cancellationToken));
    }

    private CancellationToken MethodToken(CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled ? cancellationToken : _optionsToken;

    /// <summary>
    /// Starts a streaming call for a gRPC CallInvoker (whose API starts calls synchronously: a
    /// wait for a slot of the channel's limiter blocks); throws <see cref="RpcException"/>.
    /// </summary>
    internal ClientStreamCall StartStream<TRequest>(RpalMethod method, in TRequest request)
        where TRequest : struct, IRpalPayload<TRequest>
    {
        RpalCallScope? scope = _scope ?? RpalCallScope.Current;
        RpalOutgoingMessage message = EncodeStream(method, in request, scope, _optionsToken, out long deadline);
        if (!_channel.Limiter.TryEnter())
        {
            EnterSlow(ref message, deadline, method, _optionsToken);
        }

        ValueTask<ClientStreamCall> start = SubmitStream(method, message, scope, deadline, _optionsToken);
        return start.IsCompleted ? start.Result : start.AsTask().GetAwaiter().GetResult(); // a full ring: bounded by the deadline
    }

    /// <summary>
    /// Encodes the opening request, takes a slot of the channel's limiter (waiting without
    /// blocking when it must) and submits; throws <see cref="RpcException"/>.
    /// </summary>
    private ValueTask<ClientStreamCall> StartStreamAsync<TRequest>(RpalMethod method, TRequest request, RpalCallScope? scope, CancellationToken cancellationToken)
        where TRequest : struct, IRpalPayload<TRequest>
    {
        RpalOutgoingMessage message = EncodeStream(method, in request, scope, cancellationToken, out long deadline);
        if (_channel.Limiter.TryEnter())
        {
            return SubmitStream(method, message, scope, deadline, cancellationToken);
        }

        return StartStreamAfterWaitAsync(method, message, scope, deadline, cancellationToken);
    }

    private async ValueTask<ClientStreamCall> StartStreamAfterWaitAsync(RpalMethod method, RpalOutgoingMessage message, RpalCallScope? scope, long deadline, CancellationToken cancellationToken)
    {
        try
        {
            await _channel.Limiter.EnterAsync(deadline, method, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            message.Dispose();
            throw;
        }

        return await SubmitStream(method, message, scope, deadline, cancellationToken).ConfigureAwait(false);
    }

    private RpalOutgoingMessage EncodeStream<TRequest>(RpalMethod method, in TRequest request, RpalCallScope? scope, CancellationToken cancellationToken, out long deadline)
        where TRequest : struct, IRpalPayload<TRequest>
    {
        if (cancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "Cancelled"));
        }

        deadline = Deadline(scope);
        try
        {
            return Encode(method, in request, scope, deadline, cancellable: true, RequestCodec.Stream);
        }
        catch (Exception e)
        {
            throw EncodeFailure(e, method);
        }
    }

    /// <summary>
    /// Submits an encoded stream call that holds a slot (given back at its completion); when the
    /// connection has no room, waits for it without blocking, bounded by the deadline and token.
    /// </summary>
    private ValueTask<ClientStreamCall> SubmitStream(RpalMethod method, RpalOutgoingMessage message, RpalCallScope? scope, long deadline, CancellationToken cancellationToken)
    {
        var call = new ClientStreamCall(_channel, method, scope);
        return call.Start(in message.Message, deadline, cancellationToken)
            ? ValueTask.FromResult(call)
            : StartWhenRoomAsync(call, message, deadline, cancellationToken);
    }

    private async ValueTask<ClientStreamCall> StartWhenRoomAsync(ClientStreamCall call, RpalOutgoingMessage message, long deadline, CancellationToken cancellationToken)
    {
        using CancellationTokenSource bound = Bound(deadline, cancellationToken);
        try
        {
            while (true)
            {
                Task room = _channel.Connection.WaitForRoomAsync(bound.Token);
                if (call.Start(in message.Message, deadline, cancellationToken))
                {
                    return call;
                }

                await room.ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            _channel.Limiter.Exit();
            message.Dispose();
            throw BoundFired(cancellationToken);
        }
    }
}
