using Grpc.Core;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

/// <summary>The one implementation the CrossHost tests reach over Rpal and over HTTP/2.</summary>
internal sealed class CrossHostService : ICrossHostService
{
    public int Add(int a, int b) => a + b;

    public async ValueTask<string> GreetAsync(string name, CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        return $"Hello, {name}";
    }

    public Task<byte[]> EchoAsync(byte[] data) => Task.FromResult(data);

    public (long Sum, double Mean) Stats(long[] values) =>
        (values.Sum(), values.Length == 0 ? 0 : values.Average());

    public void Fail(int code, string detail)
    {
        if (code == 0)
        {
            throw new InvalidOperationException(detail);
        }

        throw new RpcException(new Status((StatusCode)code, detail));
    }

    public async IAsyncEnumerable<long> Range(long start, int count)
    {
        for (int i = 0; i < count; i++)
        {
            yield return start + i;
        }

        await Task.CompletedTask;
    }

    public async ValueTask<long> SumAsync(IAsyncEnumerable<long> values)
    {
        long sum = 0;
        await foreach (long v in values)
        {
            sum += v;
        }

        return sum;
    }

    public async IAsyncEnumerable<string> Shout(string prefix, IAsyncEnumerable<string> words)
    {
        await foreach (string w in words)
        {
            yield return prefix + w.ToUpperInvariant();
        }
    }

    public async IAsyncEnumerable<long> FailAfter(int count, int code)
    {
        for (int i = 0; i < count; i++)
        {
            yield return i;
        }

        await Task.CompletedTask;
        throw new RpcException(new Status((StatusCode)code, $"failed after {count}"));
    }

    public async ValueTask<int> HoldAsync(int tag, CancellationToken cancellationToken = default)
    {
        await Holds.HoldAsync(tag, cancellationToken);
        return tag;
    }
}
