// A stand-in for the part of Rpal.Rpc that the grpc-dotnet hosting glue calls: RpalGrpc and
// RpalGrpcMethod<TService>, with the public members the glue uses and nothing else. It lets the
// glue be compiled and run without the rest of Rpal.Rpc; GrpcHostingTests compiles the glue
// against the real Rpal.Rpc as well, once that has these types.
//
// The messages are byte[]: grpc-dotnet's ServiceMethodProviderContext<TService>.Add*Method (and
// Grpc.Core.Api's ServerServiceDefinition.Builder and CallInvoker) require reference types
// (where TRequest : class, where TResponse : class), so ReadOnlyMemory<byte> cannot be one. The
// glue names no message type: it infers it from Method.
using Grpc.Core;

namespace Rpal.Rpc;

public static class RpalGrpc
{
    private static readonly Marshaller<byte[]> s_bytes = Marshallers.Create(static value => value, static value => value);

    /// <summary>One method of each call type, in a service named after <typeparamref name="TService"/>.</summary>
    public static IReadOnlyList<RpalGrpcMethod<TService>> GetMethods<TService>()
        where TService : class =>
    [
        new(new Method<byte[], byte[]>(MethodType.Unary, typeof(TService).Name, "Add", s_bytes, s_bytes)),
        new(new Method<byte[], byte[]>(MethodType.ServerStreaming, typeof(TService).Name, "Count", s_bytes, s_bytes)),
        new(new Method<byte[], byte[]>(MethodType.ClientStreaming, typeof(TService).Name, "Sum", s_bytes, s_bytes)),
        new(new Method<byte[], byte[]>(MethodType.DuplexStreaming, typeof(TService).Name, "Echo", s_bytes, s_bytes)),
    ];
}

public sealed class RpalGrpcMethod<TService>
    where TService : class
{
    internal RpalGrpcMethod(Method<byte[], byte[]> method) => Method = method;

    public Method<byte[], byte[]> Method { get; }

    public Task<byte[]> InvokeUnary(TService service, byte[] request, ServerCallContext context) =>
        throw new NotSupportedException("The stand-in only lists methods.");

    public Task<byte[]> InvokeClientStreaming(TService service, IAsyncStreamReader<byte[]> requests, ServerCallContext context) =>
        throw new NotSupportedException("The stand-in only lists methods.");

    public Task InvokeServerStreaming(TService service, byte[] request, IServerStreamWriter<byte[]> responses, ServerCallContext context) =>
        throw new NotSupportedException("The stand-in only lists methods.");

    public Task InvokeDuplexStreaming(TService service, IAsyncStreamReader<byte[]> requests, IServerStreamWriter<byte[]> responses, ServerCallContext context) =>
        throw new NotSupportedException("The stand-in only lists methods.");
}
