using System.Runtime.CompilerServices;
using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Rpc.GrpcInterop;

namespace Rpal.Rpc;

/// <summary>
/// One method of an [RpalService] interface as a gRPC method, with the handlers a gRPC server
/// (grpc-dotnet) calls: each runs the generated dispatcher on the implementation it is given.
/// The messages are the method's Rpal bodies (docs/wire.md, "Bodies").
/// </summary>
/// <typeparam name="TService">The [RpalService] interface.</typeparam>
public sealed class RpalGrpcMethod<TService>
    where TService : class
{
    private readonly RpalServiceDescriptor<TService> _descriptor;
    private readonly RpalMethod _rpal;
    private readonly ConditionalWeakTable<TService, RpalServiceDispatcher> _dispatchers;

    internal RpalGrpcMethod(RpalServiceDescriptor<TService> descriptor, RpalMethod rpal, Method<byte[], byte[]> method, ConditionalWeakTable<TService, RpalServiceDispatcher> dispatchers)
    {
        _descriptor = descriptor;
        _rpal = rpal;
        Method = method;
        _dispatchers = dispatchers;
    }

    /// <summary>The gRPC method: service, name, call shape and marshallers.</summary>
    public Method<byte[], byte[]> Method { get; }

    /// <summary>Serves a unary call.</summary>
    public Task<byte[]> InvokeUnary(TService service, byte[] request, ServerCallContext context) =>
        Invoke(service, context, request, null, null);

    /// <summary>Serves a client-streaming call.</summary>
    public Task<byte[]> InvokeClientStreaming(TService service, IAsyncStreamReader<byte[]> requests, ServerCallContext context) =>
        Invoke(service, context, [], requests, null);

    /// <summary>Serves a server-streaming call.</summary>
    public Task InvokeServerStreaming(TService service, byte[] request, IServerStreamWriter<byte[]> responses, ServerCallContext context) =>
        Invoke(service, context, request, null, responses);

    /// <summary>Serves a bidirectional-streaming call.</summary>
    public Task InvokeDuplexStreaming(TService service, IAsyncStreamReader<byte[]> requests, IServerStreamWriter<byte[]> responses, ServerCallContext context) =>
        Invoke(service, context, [], requests, responses);

    private Task<byte[]> Invoke(
        TService service,
        ServerCallContext context,
        byte[] request,
        IAsyncStreamReader<byte[]>? requests,
        IServerStreamWriter<byte[]>? responses)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(context);
        return requests is null
            ? Dispatch(service, context, request, null, responses)
            : DispatchStreamAsync(service, context, requests, responses);
    }

    /// <summary>
    /// A client stream's first message is the opening request (the method's other parameters,
    /// maybe none), which over Rpal travels with the call itself.
    /// </summary>
    private async Task<byte[]> DispatchStreamAsync(
        TService service,
        ServerCallContext context,
        IAsyncStreamReader<byte[]> requests,
        IServerStreamWriter<byte[]>? responses)
    {
        if (!await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.Internal, $"{_rpal.FullName}: the client's stream has no opening request."));
        }

        return await Dispatch(service, context, requests.Current, requests, responses).ConfigureAwait(false);
    }

    private Task<byte[]> Dispatch(
        TService service,
        ServerCallContext context,
        byte[] request,
        IAsyncStreamReader<byte[]>? requests,
        IServerStreamWriter<byte[]>? responses)
    {
        RpalServiceDispatcher dispatcher = _dispatchers.GetValue(service, _descriptor.CreateDispatcher);
        var grpc = new GrpcServerCall(context, _descriptor.ServiceName, _rpal.FullName, request, requests, responses);
        var call = new RpalServerCall(grpc, _rpal.Id);
        try
        {
            dispatcher.Dispatch(call);
        }
        catch (Exception e)
        {
            call.CompleteWithException(e);
        }

        return grpc.Result.Task;
    }
}
