using Rpal.Rpc;

namespace Rpal.Bench.Contracts;

/// <summary>
/// The contract the rtt, size and throughput scenarios call: served over Rpal as "rpal.bench"
/// and over HTTP/2 by grpc-dotnet, by the same implementation in the same server process.
/// </summary>
[RpalService("rpal.bench")]
public interface IBenchService
{
    /// <summary>Returns <paramref name="value"/>: the 8-byte round trip.</summary>
    long Echo(long value);

    /// <summary>Returns <paramref name="value"/>, awaited by the caller: the 8-byte round trip of an asynchronous call.</summary>
    ValueTask<long> EchoAsync(long value);

    /// <summary>Returns <paramref name="data"/>: the payload both ways.</summary>
    ReadOnlyMemory<byte> EchoBytes(ReadOnlyMemory<byte> data);

    /// <summary>Returns the length of <paramref name="data"/>: the payload one way, a tiny reply.</summary>
    int Length(ReadOnlyMemory<byte> data);

    /// <summary>Streams 0 .. <paramref name="count"/> - 1 back as fast as flow control lets it: the server-streaming scenario.</summary>
    IAsyncEnumerable<long> Count(long count, CancellationToken cancellationToken = default);
}
