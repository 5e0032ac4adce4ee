using System.Runtime.InteropServices;

namespace Rpal.Runtime;

/// <summary>Counters of one end of a connection (<c>struct rpal_conn_stats</c>), for tests, tools and metrics.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct RpalConnectionStats
{
    /// <summary>Descriptors this side published: requests, one-way messages, replies, releases, failure notices.</summary>
    public readonly ulong Sent;

    /// <summary>Descriptors this side took from the peer's rings, rejected ones included.</summary>
    public readonly ulong Received;

    /// <summary>Descriptors from the peer rejected as malformed or meaningless.</summary>
    public readonly ulong Rejected;

    /// <summary>Calls whose reply arrived while the caller spun: blocking calls, and submitted calls answered within their spin.</summary>
    public readonly ulong Spins;

    /// <summary>Sleeps in the kernel (wait slices of blocking calls, sleeps of an epoll wait holding the connection).</summary>
    public readonly ulong Parks;

    /// <summary>Wake-ups this side sent to a parked peer.</summary>
    public readonly ulong Wakeups;

    /// <summary>Bytes of this side's arena the peer holds now.</summary>
    public readonly ulong LentBytes;

    /// <summary>Entries of each ring this side publishes to (its request ring and its control ring).</summary>
    public readonly uint RingEntries;

    /// <summary>Requests and one-way messages this side published that the peer has not taken yet.</summary>
    public readonly uint RequestsOutQueued;

    /// <summary>Replies and releases this side published that the peer has not taken yet.</summary>
    public readonly uint ControlOutQueued;

    /// <summary>Replies and releases waiting for room in this side's control ring (the peer is slow to take them).</summary>
    public readonly uint ControlOutBacklog;

    /// <summary>The peer's requests and one-way messages this side has not taken yet.</summary>
    public readonly uint RequestsInQueued;

    /// <summary>The peer's replies and releases this side has not taken yet.</summary>
    public readonly uint ControlInQueued;
}
