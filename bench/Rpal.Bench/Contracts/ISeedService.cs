using Rpal.Rpc;

namespace Rpal.Bench;

/// <summary>
/// The seed's experiment over Rpal: each <see cref="Send"/> is one 32-byte message (four longs),
/// the call itself is the message; the server records the clock on receipt.
/// </summary>
[RpalService("rpal.bench.seed")]
public interface ISeedService
{
    /// <summary>One message: the client's clock just before the send, its kind (<see cref="SeedStats.Warmup"/> or <see cref="SeedStats.Counted"/>), its sequence number, a spare word.</summary>
    void Send(long stamp, long kind, long sequence, long spare);

    /// <summary>Ends the run: the server sorts the latencies it kept and answers their distribution.</summary>
    SeedStats Finish();
}
