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

    /// <summary>Blocking calls whose reply arrived while spinning.</summary>
    public readonly ulong Spins;

    /// <summary>Sleeps in the kernel (wait slices of blocking calls, sleeps of an epoll wait holding the connection).</summary>
    public readonly ulong Parks;

    /// <summary>Wake-ups this side sent to a parked peer.</summary>
    public readonly ulong Wakeups;

    /// <summary>Bytes of this side's arena the peer holds now.</summary>
    public readonly ulong LentBytes;
}
