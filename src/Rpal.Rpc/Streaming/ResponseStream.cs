using Grpc.Core;
using Rpal.Rpc.Generated;

namespace Rpal.Rpc.Streaming;

/// <summary>
/// The result of a server-streaming or duplex method on the client: each enumeration makes
/// one call, started by the first <c>MoveNextAsync</c>. Ending the enumeration before the end
/// cancels the call.
/// </summary>
internal sealed class ResponseStream<TElement, T> : IAsyncEnumerable<T>
    where TElement : struct, IRpalResponse<TElement, T>
{
    private readonly Func<CancellationToken, ValueTask<ClientStreamCall>> _start;
    private readonly Func<ClientStreamCall, CancellationToken, Task>? _pump;
    private readonly CancellationToken _methodToken;

    public ResponseStream(Func<CancellationToken, ValueTask<ClientStreamCall>> start, Func<ClientStreamCall, CancellationToken, Task>? pump, CancellationToken methodToken)
    {
        _start = start;
        _pump = pump;
        _methodToken = methodToken;
    }

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        new Enumerator(this, cancellationToken);

    private sealed class Enumerator : IAsyncEnumerator<T>
    {
        private readonly ResponseStream<TElement, T> _owner;
        private readonly CancellationTokenSource? _linked;
        private readonly CancellationToken _token;
        private ClientStreamCall? _call;
        private T _current = default!;
        private bool _done;

        public Enumerator(ResponseStream<TElement, T> owner, CancellationToken enumeratorToken)
        {
            _owner = owner;
            if (enumeratorToken.CanBeCanceled && owner._methodToken.CanBeCanceled)
            {
                _linked = CancellationTokenSource.CreateLinkedTokenSource(enumeratorToken, owner._methodToken);
                _token = _linked.Token;
            }
            else
            {
                _token = enumeratorToken.CanBeCanceled ? enumeratorToken : owner._methodToken;
            }
        }

        public T Current => _current;

        public async ValueTask<bool> MoveNextAsync()
        {
            if (_done)
            {
                return false;
            }

            if (_call is null)
            {
                _call = await _owner._start(_token).ConfigureAwait(false);
                if (_owner._pump is { } pump)
                {
                    _ = pump(_call, _token);
                }
            }

            if (!await _call.MoveNextAsync(_token).ConfigureAwait(false))
            {
                _done = true;
                _current = default!;
                return false;
            }

            _current = _call.Current<TElement, T>();
            return true;
        }

        public ValueTask DisposeAsync()
        {
            _call?.Dispose("The response stream was disposed before its end.");

            _current = default!;
            _linked?.Dispose();
            return default;
        }
    }
}
