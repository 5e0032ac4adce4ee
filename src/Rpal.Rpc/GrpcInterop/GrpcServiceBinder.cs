using Rpal.Runtime;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Rpal.Rpc.Generated;
using Rpal.Rpc.Streaming;
using Rpal.Rpc.Wire;

namespace Rpal.Rpc.GrpcInterop;

/// <summary>
/// Takes the methods of a <see cref="ServerServiceDefinition"/> (the output of a protoc-generated
/// <c>BindService</c>, possibly wrapped by interceptors) and turns each handler into one that
/// serves an Rpal call: requests and stream elements deserialized in place from the client's
/// arena, responses serialized into ours.
/// </summary>
internal sealed class GrpcServiceBinder : ServiceBinderBase
{
    private readonly Dictionary<string, (List<RpalMethod> Methods, Dictionary<uint, Action<RpalServerCall>> Handlers)> _services = [];
    private readonly IReadOnlyList<Interceptor> _interceptors;

    /// <summary>A binder that wraps each handler in <paramref name="interceptors"/>, the first outermost.</summary>
    public GrpcServiceBinder(IEnumerable<Interceptor> interceptors) => _interceptors = [.. interceptors];

    /// <summary>The services bound, by name: their methods and a handler per method id.</summary>
    public IEnumerable<(string Name, List<RpalMethod> Methods, Dictionary<uint, Action<RpalServerCall>> Handlers)> Services =>
        _services.Select(s => (s.Key, s.Value.Methods, s.Value.Handlers));

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        for (int i = _interceptors.Count - 1; i >= 0; i--)
        {
            (Interceptor interceptor, UnaryServerMethod<TRequest, TResponse> inner) = (_interceptors[i], handler);
            handler = (request, context) => interceptor.UnaryServerHandler(request, context, inner);
        }

        Add(method, call =>
        {
            TRequest request = ReadRequest(call, method.RequestMarshaller);
            Complete(call, handler(request, call.Context), method.ResponseMarshaller);
        });
    }

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        for (int i = _interceptors.Count - 1; i >= 0; i--)
        {
            (Interceptor interceptor, ClientStreamingServerMethod<TRequest, TResponse> inner) = (_interceptors[i], handler);
            handler = (requests, context) => interceptor.ClientStreamingServerHandler(requests, context, inner);
        }

        Add(method, call =>
        {
            var reader = new ServerStreamReader<TRequest>(StreamOf(call), method.RequestMarshaller, call.CancellationToken);
            Complete(call, handler(reader, call.Context), method.ResponseMarshaller);
        });
    }

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        for (int i = _interceptors.Count - 1; i >= 0; i--)
        {
            (Interceptor interceptor, ServerStreamingServerMethod<TRequest, TResponse> inner) = (_interceptors[i], handler);
            handler = (request, responses, context) => interceptor.ServerStreamingServerHandler(request, responses, context, inner);
        }

        Add(method, call =>
        {
            TRequest request = ReadRequest(call, method.RequestMarshaller);
            var writer = new ServerStreamWriter<TResponse>(StreamOf(call), method.ResponseMarshaller, call.CancellationToken);
            call.CompleteWhenDone(handler(request, writer, call.Context));
        });
    }

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        for (int i = _interceptors.Count - 1; i >= 0; i--)
        {
            (Interceptor interceptor, DuplexStreamingServerMethod<TRequest, TResponse> inner) = (_interceptors[i], handler);
            handler = (requests, responses, context) => interceptor.DuplexStreamingServerHandler(requests, responses, context, inner);
        }

        Add(method, call =>
        {
            ServerStream stream = StreamOf(call);
            var reader = new ServerStreamReader<TRequest>(stream, method.RequestMarshaller, call.CancellationToken);
            var writer = new ServerStreamWriter<TResponse>(stream, method.ResponseMarshaller, call.CancellationToken);
            call.CompleteWhenDone(handler(reader, writer, call.Context));
        });
    }

    private void Add<TRequest, TResponse>(Method<TRequest, TResponse> method, Action<RpalServerCall> handler)
    {
        RpalMethod rpal = GrpcMethods.ToRpal(method);
        if (!_services.TryGetValue(method.ServiceName, out var service))
        {
            service = ([], []);
            _services[method.ServiceName] = service;
        }

        if (!service.Handlers.TryAdd(rpal.Id, handler))
        {
            throw new InvalidOperationException($"{rpal.FullName}: two methods of the service have the same Rpal method id {rpal.Id:x8}.");
        }

        service.Methods.Add(rpal);
    }

    private static TRequest ReadRequest<TRequest>(RpalServerCall call, Marshaller<TRequest> marshaller) =>
        GrpcMarshalling.Deserialize(marshaller, call.ReadRequest<MarshalledBody>().Value);

    private static ServerStream StreamOf(RpalServerCall call) =>
        call.Stream ?? throw new RpcException(new Status(StatusCode.Internal, $"{call.MethodFullName} is a streaming method, but the client did not open a stream."));

    private static void Complete<TResponse>(RpalServerCall call, Task<TResponse> response, Marshaller<TResponse> marshaller)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.IsCompletedSuccessfully)
        {
            call.Complete(new MarshalledBody(GrpcMarshalling.Serialize(marshaller, response.Result)));
            return;
        }

        call.CompleteWhenDone<MarshalledBody, ReadOnlyMemory<byte>>(SerializeAsync(response, marshaller));
    }

    private static async ValueTask<ReadOnlyMemory<byte>> SerializeAsync<TResponse>(Task<TResponse> response, Marshaller<TResponse> marshaller) =>
        GrpcMarshalling.Serialize(marshaller, await response);

    /// <summary>A handler's view of the client's messages.</summary>
    private sealed class ServerStreamReader<T>(ServerStream stream, Marshaller<T> marshaller, CancellationToken callToken) : IAsyncStreamReader<T>
    {
        private bool _taken;

        public T Current { get; private set; } = default!;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!_taken)
            {
                stream.TakeReader();
                _taken = true;
            }

            using CancellationTokenSource? linked = cancellationToken.CanBeCanceled
                ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, callToken)
                : null;
            if (!await stream.Core.MoveNextAsync(linked?.Token ?? callToken).ConfigureAwait(false))
            {
                Current = default!;
                return false;
            }

            Current = GrpcMarshalling.Deserialize(marshaller, StreamCodec.Decode<MarshalledBody, ReadOnlyMemory<byte>>(in stream.Core.Current));
            return true;
        }
    }

    /// <summary>A handler's way to send messages to the client, flow-controlled.</summary>
    private sealed class ServerStreamWriter<T>(ServerStream stream, Marshaller<T> marshaller, CancellationToken callToken) : IServerStreamWriter<T>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

        public async Task WriteAsync(T message, CancellationToken cancellationToken)
        {
            if (stream.Core.IsClosed)
            {
                throw new InvalidOperationException($"{stream.MethodName}: the call is complete; nothing more can be written.");
            }

            var element = new RpalOutgoingMessage(StreamCodec.EncodeBytes(GrpcMarshalling.Serialize(marshaller, message).Span, stream.CallId));
            using CancellationTokenSource? linked = cancellationToken.CanBeCanceled
                ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, callToken)
                : null;
            int rc = await stream.SendAsync(element, linked?.Token ?? callToken).ConfigureAwait(false);
            if (rc < 0)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, $"{stream.MethodName}: the client is gone."));
            }
        }
    }
}
