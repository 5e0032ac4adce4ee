namespace Rpal.Rpc.TestContracts;

/// <summary>
/// Every streaming shape of an [RpalService] interface: server, client and bidirectional
/// streams, byte elements read in place, errors and cancellation mid-stream, and probes of the
/// server's progress for the flow-control tests.
/// </summary>
[RpalService(ServiceNames.Streaming)]
public interface IStreamingService
{
    /// <summary>start, start + 1, ... (count elements).</summary>
    IAsyncEnumerable<long> Range(long start, int count, CancellationToken cancellationToken = default);

    /// <summary><paramref name="count"/> blobs of <paramref name="size"/> bytes; byte i of blob k is (byte)(k + i).</summary>
    IAsyncEnumerable<ReadOnlyMemory<byte>> Blobs(int count, int size);

    /// <summary>The sum and count of the values (client streaming).</summary>
    ValueTask<(long Sum, long Count)> SumAsync(IAsyncEnumerable<long> values, CancellationToken cancellationToken = default);

    /// <summary>How many of the blobs were read in place (views of the client's arena), and their total length.</summary>
    Task<(int Views, long Bytes)> InspectBlobsAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> blobs);

    /// <summary>Each value times <paramref name="factor"/>, as it arrives (bidirectional).</summary>
    IAsyncEnumerable<long> Multiply(long factor, IAsyncEnumerable<long> values, CancellationToken cancellationToken = default);

    /// <summary>Strings both ways: each reversed.</summary>
    IAsyncEnumerable<string?> Reverse(IAsyncEnumerable<string?> values);

    /// <summary>0 .. count-1, then fails with <paramref name="code"/> (a Grpc.Core.StatusCode; 0: a plain exception).</summary>
    IAsyncEnumerable<long> FailAfter(int count, int code, string detail);

    /// <summary>0 .. count-1, then "held TAG" and waits for its token ("token-fired TAG").</summary>
    IAsyncEnumerable<long> HoldAfter(int count, int tag, CancellationToken cancellationToken = default);

    /// <summary>Reads one value, then "held TAG" and waits for its token (which fires when the client stops).</summary>
    ValueTask<long> ReadOneThenHoldAsync(int tag, IAsyncEnumerable<long> values, CancellationToken cancellationToken = default);

    /// <summary>Reads one value and answers with it, leaving the rest of the client's stream unread.</summary>
    ValueTask<long> FirstAsync(IAsyncEnumerable<long> values);

    /// <summary>Streams 0 .. count-1 as fast as the client allows, counting what it produced under <paramref name="tag"/>.</summary>
    IAsyncEnumerable<long> Produce(int tag, int count);

    /// <summary>How many elements <see cref="Produce"/> produced so far for <paramref name="tag"/>.</summary>
    long Produced(int tag);

    /// <summary>Reads the values, counting them under <paramref name="tag"/>, yielding to other work between elements.</summary>
    ValueTask<long> ConsumeAsync(int tag, IAsyncEnumerable<long> values);

    /// <summary>How many elements <see cref="ConsumeAsync"/> read so far for <paramref name="tag"/>.</summary>
    long Consumed(int tag);
}
