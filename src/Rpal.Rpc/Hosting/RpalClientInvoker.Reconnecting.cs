using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Rpal.Rpc.Hosting;

namespace Rpal.Rpc.Generated;

// The invoker of a client from AddRpalClient (Hosting/): each call goes to the invoker of the
// connection current when it starts (ReconnectingChannel), and an Unavailable it fails with
// retires that connection. Kept here, beside the rest of Hosting, so that the hot paths in
// RpalClientInvoker.cs only gain one null check per entry point.
public sealed partial class RpalClientInvoker
{
    private readonly ReconnectingChannel? _reconnecting;

    internal RpalClientInvoker(ReconnectingChannel reconnecting)
    {
        _reconnecting = reconnecting;
    }

    private TValue CallReconnecting<TRequest, TResponse, TValue>(RpalMethod method, in TRequest request, CancellationToken cancellationToken)
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        ReconnectingChannel.Connected connected = _reconnecting!.Acquire();
        try
        {
            return connected.Invoker.Call<TRequest, TResponse, TValue>(method, in request, cancellationToken);
        }
        catch (RpcException e) when (_reconnecting.Failed(connected, e))
        {
            throw; // never: Failed returns false, the exception passes unchanged
        }
    }

    private ValueTask<TValue> CallAsyncReconnecting<TRequest, TResponse, TValue>(RpalMethod method, in TRequest request, CancellationToken cancellationToken)
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        if (!TryAcquire(out ReconnectingChannel.Connected? connected, out Exception? failure))
        {
            return ValueTask.FromException<TValue>(failure);
        }

        ValueTask<TValue> call = connected.Invoker.CallAsync<TRequest, TResponse, TValue>(method, in request, cancellationToken);
        return call.IsCompletedSuccessfully ? call : Observe(call, connected);
    }

    private ValueTask<TValue> ClientStreamingReconnecting<TRequest, TInElement, TIn, TResponse, TValue>(RpalMethod method, TRequest request, IAsyncEnumerable<TIn> input, CancellationToken cancellationToken)
        where TRequest : struct, IRpalPayload<TRequest>
        where TInElement : struct, IRpalResponse<TInElement, TIn>
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        if (!TryAcquire(out ReconnectingChannel.Connected? connected, out Exception? failure))
        {
            return ValueTask.FromException<TValue>(failure);
        }

        return Observe(connected.Invoker.ClientStreamingAsync<TRequest, TInElement, TIn, TResponse, TValue>(method, request, input, cancellationToken), connected);
    }

    /// <summary>The current connection, or the reason there is none (an asynchronous call fails with it, it does not throw).</summary>
    private bool TryAcquire([NotNullWhen(true)] out ReconnectingChannel.Connected? connected, [NotNullWhen(false)] out Exception? failure)
    {
        try
        {
            connected = _reconnecting!.Acquire();
            failure = null;
            return true;
        }
        catch (Exception e)
        {
            connected = null;
            failure = e;
            return false;
        }
    }

    /// <summary>Awaits a call to see its Unavailable (the one allocation the reconnecting async path adds).</summary>
    private async ValueTask<TValue> Observe<TValue>(ValueTask<TValue> call, ReconnectingChannel.Connected connected)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (RpcException e) when (_reconnecting!.Failed(connected, e))
        {
            throw; // never
        }
    }

    /// <summary>
    /// A streaming call on the connection current when its enumeration starts (a stream starts
    /// when it is enumerated, as over a channel).
    /// </summary>
    private async IAsyncEnumerable<TValue> StreamReconnecting<TValue>(
        Func<RpalClientInvoker, IAsyncEnumerable<TValue>> start, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ReconnectingChannel.Connected connected = _reconnecting!.Acquire();
        IAsyncEnumerator<TValue> elements = start(connected.Invoker).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await elements.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }
                }
                catch (RpcException e) when (_reconnecting.Failed(connected, e))
                {
                    throw; // never
                }

                yield return elements.Current;
            }
        }
        finally
        {
            await elements.DisposeAsync().ConfigureAwait(false);
        }
    }
}
