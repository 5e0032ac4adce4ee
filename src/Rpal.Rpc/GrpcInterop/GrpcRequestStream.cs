using Grpc.Core;

namespace Rpal.Rpc.GrpcInterop;

/// <summary>The client's elements, as a handler served by grpc-dotnet reads them.</summary>
internal sealed class GrpcRequestStream<TElement, T>(IAsyncStreamReader<byte[]> reader, CancellationToken callToken) : IAsyncEnumerable<T>
    where TElement : struct, Generated.IRpalResponse<TElement, T>
{
    private int _enumerated;

    public async IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _enumerated, 1) != 0)
        {
            throw new InvalidOperationException("The request stream can be enumerated once.");
        }

        using CancellationTokenSource? linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, callToken)
            : null;
        CancellationToken token = linked?.Token ?? callToken;
        while (await reader.MoveNext(token).ConfigureAwait(false))
        {
            var body = new Generated.RpalReader(reader.Current);
            yield return TElement.Read(ref body).Value;
        }
    }
}
