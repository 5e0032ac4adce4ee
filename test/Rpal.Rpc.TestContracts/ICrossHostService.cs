namespace Rpal.Rpc.TestContracts;

/// <summary>
/// One contract served over both transports by one implementation in Rpal.Rpc.TestServer: over
/// Rpal, and over HTTP/2 by grpc-dotnet (the CrossHost tests call both with the same client code).
/// </summary>
[RpalService(ServiceNames.CrossHost)]
public interface ICrossHostService
{
    int Add(int a, int b);

    ValueTask<string> GreetAsync(string name, CancellationToken cancellationToken = default);

    Task<byte[]> EchoAsync(byte[] data);

    (long Sum, double Mean) Stats(long[] values);

    /// <summary>Throws RpcException with <paramref name="code"/>, or InvalidOperationException(detail) for 0.</summary>
    void Fail(int code, string detail);

    IAsyncEnumerable<long> Range(long start, int count);

    ValueTask<long> SumAsync(IAsyncEnumerable<long> values);

    /// <summary>Each word upper-cased after <paramref name="prefix"/> (bidirectional, with an opening parameter).</summary>
    IAsyncEnumerable<string> Shout(string prefix, IAsyncEnumerable<string> words);

    /// <summary>0 .. count-1, then fails with <paramref name="code"/>.</summary>
    IAsyncEnumerable<long> FailAfter(int count, int code);

    /// <summary>Writes "held TAG", waits for its token, writes "token-fired TAG".</summary>
    ValueTask<int> HoldAsync(int tag, CancellationToken cancellationToken = default);
}
