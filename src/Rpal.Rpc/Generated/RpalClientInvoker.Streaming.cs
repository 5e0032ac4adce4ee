using Grpc.Core;
using Rpal.Rpc.Streaming;
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
        RpalCallScope? scope = _scope ?? RpalCallScope.Current;
        if (_grpc is not null)
        {
            return _grpc.ServerStreaming<TElement, TValue>(method, GrpcInterop.GrpcBodies.ToBytes(in request), GrpcOptions(scope, MethodToken(cancellationToken)), scope, CancellationToken.None);
        }

        return new ResponseStream<TElement, TValue>(
            token => StartStream(method, in request, scope, token), pump: null, MethodToken(cancellationToken));
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
        cancellationToken = MethodToken(cancellationToken);
        if (_grpc is not null)
        {
            RpalCallScope? current = RpalCallScope.Current;
            return _grpc.ClientStreamingAsync<TInElement, TIn, TResponse, TValue>(method, GrpcInterop.GrpcBodies.ToBytes(in request), input, GrpcOptions(current, cancellationToken), current);
        }

        ClientStreamCall call;
        try
        {
            call = StartStream(method, in request, _scope ?? RpalCallScope.Current, cancellationToken);
        }
        catch (Exception e)
        {
            return ValueTask.FromException<TValue>(e);
        }

        _ = call.PumpAsync<TInElement, TIn>(input, cancellationToken);
        return call.ResultAsync<TResponse, TValue>();
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
        RpalCallScope? scope = _scope ?? RpalCallScope.Current;
        if (_grpc is not null)
        {
            return _grpc.DuplexStreaming<TInElement, TIn, TOutElement, TOut>(method, GrpcInterop.GrpcBodies.ToBytes(in request), input, GrpcOptions(scope, MethodToken(cancellationToken)), scope, CancellationToken.None);
        }

        return new ResponseStream<TOutElement, TOut>(
            token => StartStream(method, in request, scope, token),
            (call, token) => call.PumpAsync<TInElement, TIn>(input, token),
            MethodToken(cancellationToken));
    }

    private CancellationToken MethodToken(CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled ? cancellationToken : _optionsToken;

    /// <summary>Starts a streaming call for a gRPC CallInvoker; throws <see cref="RpcException"/>.</summary>
    internal ClientStreamCall StartStream<TRequest>(RpalMethod method, in TRequest request)
        where TRequest : struct, IRpalPayload<TRequest> =>
        StartStream(method, in request, _scope ?? RpalCallScope.Current, _optionsToken);

    /// <summary>Encodes the opening request and submits it; throws <see cref="RpcException"/>.</summary>
    private ClientStreamCall StartStream<TRequest>(RpalMethod method, in TRequest request, RpalCallScope? scope, CancellationToken cancellationToken)
        where TRequest : struct, IRpalPayload<TRequest>
    {
        if (cancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "Cancelled"));
        }

        long deadline = Deadline(scope);
        RpalMessage message;
        try
        {
            message = Encode(method, in request, scope, deadline, cancellable: true, RpalWire.Stream);
        }
        catch (Exception e)
        {
            throw EncodeFailure(e, method);
        }

        var call = new ClientStreamCall(_channel, method, scope);
        call.Start(in message, deadline, cancellationToken);
        return call;
    }
}
