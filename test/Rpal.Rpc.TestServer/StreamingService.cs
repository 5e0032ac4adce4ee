using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Grpc.Core;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

internal sealed class StreamingService : IStreamingService
{
    private static readonly ConcurrentDictionary<int, long> s_produced = new();
    private static readonly ConcurrentDictionary<int, long> s_consumed = new();

    public async IAsyncEnumerable<long> Range(long start, int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < count; i++)
        {
            yield return start + i;
        }

        await Task.CompletedTask;
    }

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> Blobs(int count, int size)
    {
        for (int k = 0; k < count; k++)
        {
            byte[] blob = new byte[size];
            for (int i = 0; i < size; i++)
            {
                blob[i] = (byte)(k + i);
            }

            yield return blob;
        }

        await Task.CompletedTask;
    }

    public async ValueTask<(long Sum, long Count)> SumAsync(IAsyncEnumerable<long> values, CancellationToken cancellationToken = default)
    {
        long sum = 0, count = 0;
        await foreach (long v in values.WithCancellation(cancellationToken))
        {
            sum += v;
            count++;
        }

        return (sum, count);
    }

    public async Task<(int Views, long Bytes)> InspectBlobsAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> blobs)
    {
        int views = 0;
        long bytes = 0;
        await foreach (ReadOnlyMemory<byte> blob in blobs)
        {
            if (MemoryMarshal.TryGetMemoryManager(blob, out MemoryManager<byte>? _))
            {
                views++;
            }

            bytes += blob.Length;
        }

        return (views, bytes);
    }

    public async IAsyncEnumerable<long> Multiply(long factor, IAsyncEnumerable<long> values, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (long v in values.WithCancellation(cancellationToken))
        {
            yield return v * factor;
        }
    }

    public async IAsyncEnumerable<string?> Reverse(IAsyncEnumerable<string?> values)
    {
        await foreach (string? v in values)
        {
            yield return v is null ? null : new string(v.Reverse().ToArray());
        }
    }

    public async IAsyncEnumerable<long> FailAfter(int count, int code, string detail)
    {
        for (int i = 0; i < count; i++)
        {
            yield return i;
        }

        await Task.CompletedTask;
        if (code == 0)
        {
            throw new InvalidOperationException(detail);
        }

        throw new RpcException(new Status((StatusCode)code, detail));
    }

    public async IAsyncEnumerable<long> HoldAfter(int count, int tag, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < count; i++)
        {
            yield return i;
        }

        await Holds.HoldAsync(tag, cancellationToken);
    }

    public async ValueTask<long> ReadOneThenHoldAsync(int tag, IAsyncEnumerable<long> values, CancellationToken cancellationToken = default)
    {
        await using IAsyncEnumerator<long> e = values.GetAsyncEnumerator(cancellationToken);
        await e.MoveNextAsync();
        await Holds.HoldAsync(tag, cancellationToken);
        return e.Current;
    }

    public async ValueTask<long> FirstAsync(IAsyncEnumerable<long> values)
    {
        await foreach (long v in values)
        {
            return v;
        }

        return -1;
    }

    public async IAsyncEnumerable<long> Produce(int tag, int count)
    {
        for (int i = 0; i < count; i++)
        {
            s_produced[tag] = i + 1;
            yield return i;
        }

        await Task.CompletedTask;
    }

    public long Produced(int tag) => s_produced.GetValueOrDefault(tag);

    public async ValueTask<long> ConsumeAsync(int tag, IAsyncEnumerable<long> values)
    {
        long n = 0;
        await foreach (long v in values)
        {
            s_consumed[tag] = ++n;
            await Task.Yield(); // let other calls (the client's probes) run between elements
        }

        return n;
    }

    public long Consumed(int tag) => s_consumed.GetValueOrDefault(tag);
}
