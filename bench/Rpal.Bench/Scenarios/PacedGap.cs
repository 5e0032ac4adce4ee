using HdrHistogram;

namespace Rpal.Bench;

/// <summary>What one gap of one system measured (<see cref="PacedRecorder"/>), over its counted calls.</summary>
/// <param name="Rtt">The round trips, in ns.</param>
/// <param name="ClientCpuNs">The client process's CPU time over the counted calls and their gaps.</param>
/// <param name="ServerCpuNs">The server process's, over the same calls, as the server read it.</param>
/// <param name="SleptNs">The time from the end of a call to the start of the next, summed: the gaps as slept.</param>
/// <param name="Engine">How the client's waits for a reply ended, where the engine's counters are readable.</param>
internal sealed record PacedGap(LongHistogram Rtt, long ClientCpuNs, long ServerCpuNs, long SleptNs, PacedGap.Waits? Engine)
{
    /// <summary>The counted calls.</summary>
    public long Calls => Rtt.TotalCount;

    /// <summary>This gap's measurement and <paramref name="other"/>'s, of the same system and gap, as one.</summary>
    public PacedGap Add(PacedGap other)
    {
        LongHistogram rtt = (LongHistogram)Rtt.Copy();
        rtt.Add(other.Rtt);
        Waits? engine = Engine is { } a && other.Engine is { } b ? new Waits(a.Spins + b.Spins, a.Parks + b.Parks, a.Wakeups + b.Wakeups) : null;
        return new PacedGap(rtt, ClientCpuNs + other.ClientCpuNs, ServerCpuNs + other.ServerCpuNs, SleptNs + other.SleptNs, engine);
    }

    /// <summary>
    /// The engine's counters of the client's end of the connection over the counted calls: waits
    /// for a reply that ended spinning, and that parked; wake-ups sent to the server's parked receiver.
    /// </summary>
    internal readonly record struct Waits(ulong Spins, ulong Parks, ulong Wakeups);
}
