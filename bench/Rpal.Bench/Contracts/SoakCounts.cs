using System.Runtime.InteropServices;

namespace Rpal.Bench.Contracts;

/// <summary>What the soak server saw of one client (<see cref="ISoakService.Counts"/>).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SoakCounts
{
    /// <summary>Sequence numbers below the client's count of sent calls that arrived at least once.</summary>
    public long SeenOnce;

    /// <summary>Arrivals of a sequence number that had arrived before.</summary>
    public long Duplicated;

    /// <summary>Arrivals that name this client with a sequence number it says it never sent.</summary>
    public long Stray;

    /// <summary>Payloads whose length or content is not the one derived from their client and sequence number.</summary>
    public long Corrupt;
}
