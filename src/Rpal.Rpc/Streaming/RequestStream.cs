using Rpal.Rpc.Generated;
using Rpal.Rpc.Wire;

namespace Rpal.Rpc.Streaming;

/// <summary>The client's elements as the server's handler reads them.</summary>
internal sealed class RequestStream<TElement, T> : IAsyncEnumerable<T>
    where TElement : struct, IRpalResponse<TElement, T>
{
    private readonly ServerStream _stream;
    private readonly CancellationToken _callToken;
    private int _enumerated;

    public RequestStream(ServerStream stream, CancellationToken callToken)
    {
        _stream = stream;
        _callToken = callToken;
    }

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _enumerated, 1) != 0)
        {
            throw new InvalidOperationException($"{_stream.MethodName}: the request stream can be enumerated once.");
        }

        return new Enumerator(_stream, _callToken, cancellationToken);
    }

    private sealed class Enumerator : IAsyncEnumerator<T>
    {
        private readonly ServerStream _stream;
        private readonly CancellationTokenSource? _linked;
        private readonly CancellationToken _token;
        private T _current = default!;

        public Enumerator(ServerStream stream, CancellationToken callToken, CancellationToken enumeratorToken)
        {
            _stream = stream;
            if (enumeratorToken.CanBeCanceled && callToken.CanBeCanceled)
            {
                _linked = CancellationTokenSource.CreateLinkedTokenSource(callToken, enumeratorToken);
                _token = _linked.Token;
            }
            else
            {
                _token = enumeratorToken.CanBeCanceled ? enumeratorToken : callToken;
            }
        }

        public T Current => _current;

        public async ValueTask<bool> MoveNextAsync()
        {
            if (!await _stream.Core.MoveNextAsync(_token).ConfigureAwait(false))
            {
                _current = default!;
                return false;
            }

            // a malformed element throws RpalDecodeException: the handler's exception, Internal
            _current = StreamCodec.Decode<TElement, T>(in _stream.Core.Current);
            return true;
        }

        public ValueTask DisposeAsync()
        {
            _stream.Core.ReleaseCurrent();
            _current = default!;
            _linked?.Dispose();
            return default;
        }
    }
}
