// A loopback stand-in for the two transport types of Rpal.Rpc, with the same public surface
// as the real ones plus a constructor: a call encodes its request with the generated struct,
// hands the bytes to a dispatcher in the same process, and decodes the bytes it completes with.
// Compiled in memory with the real src/Rpal.Rpc/StubSupport/*.cs (writer, reader, payload
// interfaces), so a round trip exercises the generated code against the real wire format.
// Streaming calls have the real signatures, so that generated streaming code compiles here, but
// are not looped back: they are tested across processes, with the real transport.
namespace Rpal.Rpc.Generated;

public sealed class RpalClientInvoker
{
    private readonly RpalServiceDispatcher _dispatcher;

    public RpalClientInvoker(RpalServiceDispatcher dispatcher) => _dispatcher = dispatcher;

    public TValue Call<TRequest, TResponse, TValue>(RpalMethod method, in TRequest request, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        RpalServerCall call = Send(method, request, cancellationToken);
        if (!call.Response.IsCompleted)
        {
            throw new InvalidOperationException($"{method} is synchronous but its dispatcher did not complete it at once.");
        }

        return Decode<TResponse>(call.Response.GetAwaiter().GetResult()).Value;
    }

    public ValueTask<TValue> CallAsync<TRequest, TResponse, TValue>(RpalMethod method, in TRequest request, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        RpalServerCall call = Send(method, request, cancellationToken);
        return Receive(call.Response);

        static async ValueTask<TValue> Receive(Task<byte[]> response) => Decode<TResponse>(await response.ConfigureAwait(false)).Value;
    }

    public ValueTask CallVoidAsync<TRequest>(RpalMethod method, in TRequest request, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
    {
        RpalServerCall call = Send(method, request, cancellationToken);
        return Receive(call.Response);

        static async ValueTask Receive(Task<byte[]> response) => Decode<RpalVoid>(await response.ConfigureAwait(false));
    }

    public IAsyncEnumerable<TValue> ServerStreaming<TRequest, TElement, TValue>(RpalMethod method, TRequest request, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>
        where TElement : struct, IRpalResponse<TElement, TValue>
        => throw NotLoopedBack(method);

    public ValueTask<TValue> ClientStreamingAsync<TRequest, TInElement, TIn, TResponse, TValue>(RpalMethod method, TRequest request, IAsyncEnumerable<TIn> input, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>
        where TInElement : struct, IRpalResponse<TInElement, TIn>
        where TResponse : struct, IRpalResponse<TResponse, TValue>
        => throw NotLoopedBack(method);

    public ValueTask ClientStreamingVoidAsync<TRequest, TInElement, TIn>(RpalMethod method, TRequest request, IAsyncEnumerable<TIn> input, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>
        where TInElement : struct, IRpalResponse<TInElement, TIn>
        => throw NotLoopedBack(method);

    public IAsyncEnumerable<TOut> DuplexStreaming<TRequest, TInElement, TIn, TOutElement, TOut>(RpalMethod method, TRequest request, IAsyncEnumerable<TIn> input, CancellationToken cancellationToken = default)
        where TRequest : struct, IRpalPayload<TRequest>
        where TInElement : struct, IRpalResponse<TInElement, TIn>
        where TOutElement : struct, IRpalResponse<TOutElement, TOut>
        => throw NotLoopedBack(method);

    private static NotSupportedException NotLoopedBack(RpalMethod method) =>
        new($"{method} is a {method.Type} call, which the loopback does not carry.");

    private RpalServerCall Send<TRequest>(RpalMethod method, in TRequest request, CancellationToken cancellationToken)
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
    {
        var call = new RpalServerCall(method.Id, RpalServerCall.Encode(request), cancellationToken);
        _dispatcher.Dispatch(call);
        return call;
    }

    private static T Decode<T>(byte[] body)
        where T : struct, IRpalPayload<T>
    {
        var reader = new RpalReader(body);
        T value = T.Read(ref reader);
        if (reader.Remaining != 0)
        {
            throw new RpalDecodeException($"{reader.Remaining} bytes left after a {typeof(T).Name}.");
        }

        return value;
    }
}

public sealed class RpalServerCall
{
    private readonly byte[] _request;
    private readonly TaskCompletionSource<byte[]> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _requestsRead;

    internal RpalServerCall(uint methodId, byte[] request, CancellationToken cancellationToken)
    {
        MethodId = methodId;
        _request = request;
        CancellationToken = cancellationToken;
    }

    public uint MethodId { get; }

    public CancellationToken CancellationToken { get; }

    internal Task<byte[]> Response => _response.Task;

    public TRequest ReadRequest<TRequest>()
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
    {
        if (Interlocked.Increment(ref _requestsRead) != 1)
        {
            throw new InvalidOperationException("The request was read twice.");
        }

        var reader = new RpalReader(_request);
        TRequest request = TRequest.Read(ref reader);
        if (reader.Remaining != 0)
        {
            throw new RpalDecodeException($"{reader.Remaining} bytes left after a {typeof(TRequest).Name}.");
        }

        return request;
    }

    public void Complete<TResponse>(in TResponse response)
        where TResponse : struct, IRpalPayload<TResponse>
    {
        CheckRequestRead();
        // SetResult throws when the call was already completed: a dispatcher completes once.
        _response.SetResult(Encode(response));
    }

    public void CompleteWhenDone<TResponse, TValue>(ValueTask<TValue> pending)
        where TResponse : struct, IRpalResponse<TResponse, TValue> => CompleteWhenDone<TResponse, TValue>(pending.AsTask());

    public void CompleteWhenDone(ValueTask pending) => CompleteWhenDone(pending.AsTask());

    public void CompleteWhenDone<TResponse, TValue>(Task<TValue> pending)
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        CheckRequestRead();
        pending.ContinueWith(
            t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    _response.SetResult(Encode(TResponse.FromValue(t.Result)));
                }
                else
                {
                    _response.SetException(t.Exception?.InnerExceptions ?? [new TaskCanceledException()]);
                }
            },
            TaskScheduler.Default);
    }

    public void CompleteWhenDone(Task pending)
    {
        CheckRequestRead();
        pending.ContinueWith(
            t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    _response.SetResult([]);
                }
                else
                {
                    _response.SetException(t.Exception?.InnerExceptions ?? [new TaskCanceledException()]);
                }
            },
            TaskScheduler.Default);
    }

    public IAsyncEnumerable<T> ReadStream<TElement, T>()
        where TElement : struct, IRpalResponse<TElement, T>
        => throw new NotSupportedException("The loopback does not carry streams.");

    public void CompleteWithStream<TElement, T>(IAsyncEnumerable<T> results)
        where TElement : struct, IRpalResponse<TElement, T>
        => throw new NotSupportedException("The loopback does not carry streams.");

    public void CompleteUnimplemented() =>
        _response.SetException(new RpalUnimplementedException(MethodId));

    internal static byte[] Encode<T>(in T payload)
        where T : struct, IRpalPayload<T>, allows ref struct
    {
        int size = payload.GetSize();
        byte[] body = new byte[size];
        var writer = new RpalWriter(body);
        payload.Write(ref writer);
        if (writer.Position != size)
        {
            throw new InvalidOperationException($"{typeof(T).Name}: GetSize said {size}, Write wrote {writer.Position}.");
        }

        return body;
    }

    private void CheckRequestRead()
    {
        if (Volatile.Read(ref _requestsRead) != 1)
        {
            throw new InvalidOperationException("The call was completed without reading its request.");
        }
    }
}

public sealed class RpalUnimplementedException(uint methodId)
    : Exception($"No method with id 0x{methodId:X8}.")
{
    public uint MethodId { get; } = methodId;
}
