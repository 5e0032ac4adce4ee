using Rpal.Rpc;

namespace Rpal.Bench.Contracts;

/// <summary>
/// The soak command's contract: every call names its client and its sequence number, and its
/// payload and its reply are derived from both (<see cref="Soak.SoakPayload"/>), so a client can
/// tell its own reply from any other and the server can record which calls it saw.
/// </summary>
[RpalService("rpal.bench.soak")]
public interface ISoakService
{
    /// <summary>An inline call (12 bytes of arguments): answers <see cref="Soak.SoakPayload.PingReply"/> of the pair.</summary>
    long Ping(int client, long sequence);

    /// <inheritdoc cref="Ping"/>
    ValueTask<long> PingAsync(int client, long sequence);

    /// <summary>A call with a payload: answers <paramref name="data"/> with every bit inverted.</summary>
    ReadOnlyMemory<byte> Echo(int client, long sequence, ReadOnlyMemory<byte> data);

    /// <inheritdoc cref="Echo"/>
    ValueTask<ReadOnlyMemory<byte>> EchoAsync(int client, long sequence, ReadOnlyMemory<byte> data);

    /// <summary>Calls the server has seen so far, all clients together (the progress of the run).</summary>
    long Progress();

    /// <summary>What the server saw of <paramref name="client"/>, which says it sent sequence numbers 0 to <paramref name="sent"/> - 1.</summary>
    SoakCounts Counts(int client, long sent);
}
