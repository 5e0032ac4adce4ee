using Rpal.Runtime;
using Grpc.Core;
using Rpal.Rpc.Streaming;
using Rpal.Rpc.Wire;

namespace Rpal.Rpc.Generated;

/// <summary>Streaming calls, server side (docs/streaming.md).</summary>
public sealed partial class RpalServerCall
{
    /// <summary>
    /// The elements the client streams to this call, in order, until it half-closes. Read it
    /// once. A <see cref="ReadOnlyMemory{T}"/> element views the client's arena until the next
    /// <c>MoveNextAsync</c>. Reading throws <see cref="OperationCanceledException"/> when the call
    /// is cancelled (by the client, its deadline, its death or the server stopping).
    /// </summary>
    public IAsyncEnumerable<T> ReadStream<TElement, T>()
        where TElement : struct, IRpalResponse<TElement, T>
    {
        if (_grpc is not null)
        {
            return new GrpcInterop.GrpcRequestStream<TElement, T>(_grpc.Requests ?? throw NotAStream(), CancellationToken);
        }

        ServerStream stream = Stream ?? throw NotAStream();
        stream.TakeReader();
        return new RequestStream<TElement, T>(stream, CancellationToken);
    }

    /// <summary>
    /// Streams every element of <paramref name="results"/> to the client (enumerated with the
    /// call's cancellation token; each element waits for the client's flow-control credit),
    /// then answers OK, or with the status of the exception that ended the enumeration.
    /// </summary>
    public void CompleteWithStream<TElement, T>(IAsyncEnumerable<T> results)
        where TElement : struct, IRpalResponse<TElement, T>
    {
        ArgumentNullException.ThrowIfNull(results);
        if (_grpc is not null)
        {
            _ = StreamGrpcAsync<TElement, T>(results);
            return;
        }

        if (Stream is not { } stream)
        {
            CompleteWithStatus(new Status(StatusCode.Internal, $"{MethodFullName} streams its result, but the client did not open a stream."));
            return;
        }

        _ = StreamAsync<TElement, T>(stream, results);
    }

    private async Task StreamAsync<TElement, T>(ServerStream stream, IAsyncEnumerable<T> results)
        where TElement : struct, IRpalResponse<TElement, T>
    {
        CancellationToken token = CancellationToken;
        try
        {
            // continuations stay on the receiver thread, as the handler's own awaits do
            await foreach (T item in results.WithCancellation(token))
            {
                var element = new RpalOutgoingMessage(StreamCodec.Encode(TElement.FromValue(item), stream.CallId));
                int rc = await stream.SendAsync(element, token);
                if (rc < 0)
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, $"{stream.MethodName}: the client is gone."));
                }
            }
        }
        catch (Exception e)
        {
            CompleteWithException(e);
            return;
        }

        Complete(default(RpalVoid));
    }

    private async Task StreamGrpcAsync<TElement, T>(IAsyncEnumerable<T> results)
        where TElement : struct, IRpalResponse<TElement, T>
    {
        try
        {
            IServerStreamWriter<byte[]> writer = _grpc!.Responses ?? throw NotAStream();
            await foreach (T item in results.WithCancellation(CancellationToken).ConfigureAwait(false))
            {
                await writer.WriteAsync(GrpcInterop.GrpcBodies.ToBytes(TElement.FromValue(item)), CancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            CompleteWithException(e);
            return;
        }

        Complete(default(RpalVoid));
    }

    private RpcException NotAStream() =>
        new(new Status(StatusCode.Internal, $"{MethodFullName} reads a request stream, but the client did not open one."));
}
