using Rpal.Bench.Contracts;

namespace Rpal.Bench.Server;

/// <summary>The server side of <see cref="IBenchService"/>: does as little as the contract allows.</summary>
internal sealed class BenchService : IBenchService
{
    public long Echo(long value) => value;

    public ValueTask<long> EchoAsync(long value) => ValueTask.FromResult(value);

    public ReadOnlyMemory<byte> EchoBytes(ReadOnlyMemory<byte> data) => data;

    // Touches the last byte, so that a transport that maps the payload lazily pays for it.
    public int Length(ReadOnlyMemory<byte> data) => data.IsEmpty ? 0 : data.Length + (data.Span[^1] & 0);

    // never suspends on its own: only flow control makes the server wait
    public IAsyncEnumerable<long> Count(long count, CancellationToken cancellationToken = default) => Numbers(count).ToAsyncEnumerable();

    private static IEnumerable<long> Numbers(long count)
    {
        for (long i = 0; i < count; i++)
        {
            yield return i;
        }
    }
}
