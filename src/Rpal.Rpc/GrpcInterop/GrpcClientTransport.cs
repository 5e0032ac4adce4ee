using System.Runtime.CompilerServices;
using Grpc.Core;
using Rpal.Rpc.Generated;

namespace Rpal.Rpc.GrpcInterop;

/// <summary>
/// The calls of a generated client carried by a gRPC <see cref="CallInvoker"/> (a GrpcChannel):
/// the same bodies as over Rpal, framed by gRPC. A call whose client streams sends its opening
/// request (its other parameters) as the stream's first message.
/// </summary>
internal sealed class GrpcClientTransport(CallInvoker invoker, Dictionary<RpalMethod, Method<byte[], byte[]>> methods)
{
    public TValue Call<TResponse, TValue>(RpalMethod method, byte[] body, CallOptions options, RpalCallScope? scope)
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        using AsyncUnaryCall<byte[]> call = invoker.AsyncUnaryCall(MethodOf(method), null, options, body);
        byte[] reply;
        try
        {
            reply = call.ResponseAsync.GetAwaiter().GetResult();
        }
        catch (RpcException e)
        {
            Record(scope, e.Status, e.Trailers);
            throw;
        }

        Record(scope, call.GetStatus(), call.GetTrailers());
        return GrpcBodies.Read<TResponse, TValue>(reply, method);
    }

    public async ValueTask<TValue> CallAsync<TResponse, TValue>(RpalMethod method, byte[] body, CallOptions options, RpalCallScope? scope)
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        using AsyncUnaryCall<byte[]> call = invoker.AsyncUnaryCall(MethodOf(method), null, options, body);
        byte[] reply;
        try
        {
            reply = await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            Record(scope, e.Status, e.Trailers);
            throw;
        }

        Record(scope, call.GetStatus(), call.GetTrailers());
        return GrpcBodies.Read<TResponse, TValue>(reply, method);
    }

    public async IAsyncEnumerable<TValue> ServerStreaming<TElement, TValue>(
        RpalMethod method, byte[] body, CallOptions options, RpalCallScope? scope, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TElement : struct, IRpalResponse<TElement, TValue>
    {
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken, cancellationToken);
        using AsyncServerStreamingCall<byte[]> call = invoker.AsyncServerStreamingCall(MethodOf(method), null, options.WithCancellationToken(linked.Token), body);
        await foreach (TValue value in Read<TElement, TValue>(method, call.ResponseStream, scope, call.GetStatus, call.GetTrailers, linked.Token).ConfigureAwait(false))
        {
            yield return value;
        }
    }

    public async ValueTask<TValue> ClientStreamingAsync<TInElement, TIn, TResponse, TValue>(
        RpalMethod method, byte[] body, IAsyncEnumerable<TIn> input, CallOptions options, RpalCallScope? scope)
        where TInElement : struct, IRpalResponse<TInElement, TIn>
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        using AsyncClientStreamingCall<byte[], byte[]> call = invoker.AsyncClientStreamingCall(MethodOf(method), null, options);
        var failure = new StrongBox<Exception?>();
        _ = PumpAsync<TInElement, TIn>(call.RequestStream, body, input, failure, call.Dispose, options.CancellationToken);
        byte[] reply;
        try
        {
            reply = await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            Record(scope, e.Status, e.Trailers);
            ThrowIfProducerFailed(failure);
            throw;
        }

        Record(scope, call.GetStatus(), call.GetTrailers());
        return GrpcBodies.Read<TResponse, TValue>(reply, method);
    }

    public async IAsyncEnumerable<TOut> DuplexStreaming<TInElement, TIn, TOutElement, TOut>(
        RpalMethod method, byte[] body, IAsyncEnumerable<TIn> input, CallOptions options, RpalCallScope? scope, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TInElement : struct, IRpalResponse<TInElement, TIn>
        where TOutElement : struct, IRpalResponse<TOutElement, TOut>
    {
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken, cancellationToken);
        using AsyncDuplexStreamingCall<byte[], byte[]> call = invoker.AsyncDuplexStreamingCall(MethodOf(method), null, options.WithCancellationToken(linked.Token));
        var failure = new StrongBox<Exception?>();
        _ = PumpAsync<TInElement, TIn>(call.RequestStream, body, input, failure, linked.Cancel, linked.Token);
        IAsyncEnumerator<TOut> reader = Read<TOutElement, TOut>(method, call.ResponseStream, scope, call.GetStatus, call.GetTrailers, linked.Token).GetAsyncEnumerator(linked.Token);
        try
        {
            while (true)
            {
                try
                {
                    if (!await reader.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (Exception e) when (e is RpcException or OperationCanceledException)
                {
                    ThrowIfProducerFailed(failure);
                    throw;
                }

                yield return reader.Current;
            }
        }
        finally
        {
            await reader.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async IAsyncEnumerable<TValue> Read<TElement, TValue>(
        RpalMethod method,
        IAsyncStreamReader<byte[]> responses,
        RpalCallScope? scope,
        Func<Status> status,
        Func<Metadata> trailers,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where TElement : struct, IRpalResponse<TElement, TValue>
    {
        while (true)
        {
            try
            {
                if (!await responses.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
            catch (RpcException e)
            {
                Record(scope, e.Status, e.Trailers);
                throw;
            }

            yield return GrpcBodies.Read<TElement, TValue>(responses.Current, method);
        }

        Record(scope, status(), trailers());
    }

    /// <summary>
    /// Sends the opening request, then each element, then half-closes. An input that throws
    /// ends the call (<paramref name="cancel"/>), its exception kept for the caller.
    /// </summary>
    private static async Task PumpAsync<TInElement, TIn>(
        IClientStreamWriter<byte[]> writer,
        byte[] opening,
        IAsyncEnumerable<TIn> input,
        StrongBox<Exception?> failure,
        Action cancel,
        CancellationToken cancellationToken)
        where TInElement : struct, IRpalResponse<TInElement, TIn>
    {
        if (!await TryWriteAsync(writer, opening).ConfigureAwait(false))
        {
            return;
        }

        IAsyncEnumerator<TIn> items = input.GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await items.MoveNextAsync().ConfigureAwait(false);
                }
                catch (Exception) when (cancellationToken.IsCancellationRequested)
                {
                    return; // the call was cancelled: the caller sees that
                }
#pragma warning disable CA1031 // The input's failure ends the call; the caller sees it there.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    failure.Value = e;
                    cancel();
                    return;
                }

                if (!more)
                {
                    break;
                }

                if (!await TryWriteAsync(writer, GrpcBodies.ToBytes(TInElement.FromValue(items.Current))).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        finally
        {
            try
            {
                await items.DisposeAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // a producer that fails to dispose: nothing left to tell
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        try
        {
            await writer.CompleteAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // the call ended first: its status is what the caller sees
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Writes one message; false when the call is over (its status is what the caller sees).</summary>
    private static async Task<bool> TryWriteAsync(IClientStreamWriter<byte[]> writer, byte[] message)
    {
        try
        {
            await writer.WriteAsync(message).ConfigureAwait(false);
            return true;
        }
#pragma warning disable CA1031 // see above
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    /// <summary>When the producer itself failed, its exception is what the caller sees.</summary>
    private static void ThrowIfProducerFailed(StrongBox<Exception?> failure)
    {
        if (failure.Value is { } e)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }
    }

    private Method<byte[], byte[]> MethodOf(RpalMethod method) =>
        methods.TryGetValue(method, out Method<byte[], byte[]>? m)
            ? m
            : throw new InvalidOperationException($"{method.FullName} is not a method of this client's service.");

    private static void Record(RpalCallScope? scope, Status status, Metadata trailers)
    {
        if (scope is not null)
        {
            scope.Status = status;
            scope.ResponseTrailers = trailers.Count > 0 ? trailers : null;
        }
    }
}
