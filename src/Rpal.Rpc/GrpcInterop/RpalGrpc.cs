using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Rpc.GrpcInterop;

namespace Rpal.Rpc;

/// <summary>
/// The same [RpalService] contract across hosts: serve its implementation with any gRPC server
/// (grpc-dotnet over HTTP/2) and call it through any gRPC <see cref="CallInvoker"/>
/// (a Grpc.Net.Client <c>GrpcChannel</c>) with the same generated client (docs/cross-host.md).
/// </summary>
/// <example>
/// <code>
/// using var channel = GrpcChannel.ForAddress("https://calc.example");
/// ICalculator calc = RpalGrpc.CreateClient&lt;ICalculator&gt;(channel);
/// int sum = calc.Add(2, 3); // the same code as over an RpalChannel
/// </code>
/// </example>
public static class RpalGrpc
{
    private static readonly ConcurrentDictionary<Type, object> s_methods = new();

    /// <summary>
    /// The gRPC methods of <typeparamref name="TService"/>, with their handlers: what a gRPC
    /// server's method provider adds (the generated <c>AddRpalService&lt;TService&gt;()</c> for
    /// grpc-dotnet does).
    /// </summary>
    public static IReadOnlyList<RpalGrpcMethod<TService>> GetMethods<TService>()
        where TService : class =>
        (IReadOnlyList<RpalGrpcMethod<TService>>)s_methods.GetOrAdd(typeof(TService), static _ =>
        {
            RpalServiceDescriptor<TService> descriptor = RpalServiceRegistry.Get<TService>();
            var dispatchers = new ConditionalWeakTable<TService, RpalServiceDispatcher>();
            return GrpcBodies.MethodsOf(descriptor)
                .Select(m => new RpalGrpcMethod<TService>(descriptor, m.Key, m.Value, dispatchers))
                .ToArray();
        });

    /// <summary>
    /// A gRPC <see cref="ServerServiceDefinition"/> that serves <paramref name="implementation"/>,
    /// for gRPC servers that host definitions.
    /// </summary>
    public static ServerServiceDefinition BindService<TService>(TService implementation)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(implementation);
        ServerServiceDefinition.Builder builder = ServerServiceDefinition.CreateBuilder();
        foreach (RpalGrpcMethod<TService> m in GetMethods<TService>())
        {
            switch (m.Method.Type)
            {
                case MethodType.Unary:
                    builder.AddMethod(m.Method, (request, context) => m.InvokeUnary(implementation, request, context));
                    break;
                case MethodType.ClientStreaming:
                    builder.AddMethod(m.Method, (requests, context) => m.InvokeClientStreaming(implementation, requests, context));
                    break;
                case MethodType.ServerStreaming:
                    builder.AddMethod(m.Method, (request, responses, context) => m.InvokeServerStreaming(implementation, request, responses, context));
                    break;
                case MethodType.DuplexStreaming:
                    builder.AddMethod(m.Method, (requests, responses, context) => m.InvokeDuplexStreaming(implementation, requests, responses, context));
                    break;
            }
        }

        return builder.Build();
    }

    /// <summary>
    /// A client of <typeparamref name="TService"/> whose calls go through a gRPC
    /// <paramref name="invoker"/>, with <paramref name="options"/> (deadline, headers, token) on
    /// each call. <see cref="RpalCallScope"/> works as over Rpal.
    /// </summary>
    public static TService CreateClient<TService>(CallInvoker invoker, CallOptions options = default)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(invoker);
        RpalServiceDescriptor<TService> descriptor = RpalServiceRegistry.Get<TService>();
        return descriptor.CreateClient(new RpalClientInvoker(new GrpcClientTransport(invoker, GrpcBodies.MethodsOf(descriptor)), options));
    }

    /// <summary>A client of <typeparamref name="TService"/> over a gRPC channel (a Grpc.Net.Client GrpcChannel).</summary>
    public static TService CreateClient<TService>(ChannelBase channel, CallOptions options = default)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(channel);
        return channel is RpalChannel rpal ? rpal.CreateClient<TService>(options) : CreateClient<TService>(channel.CreateCallInvoker(), options);
    }
}
