using System.Runtime.InteropServices;

namespace Rpal.Runtime;

/// <summary>
/// The completion of a call made with <see cref="RpalConnection.Submit(in RpalMessage, ulong, out ulong)"/>
/// (<c>struct rpal_completion</c>, 80 bytes), taken with <see cref="RpalConnection.Complete"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct RpalCompletion
{
    /// <summary>The user data given to <see cref="RpalConnection.Submit(in RpalMessage, ulong, out ulong)"/>.</summary>
    public ulong UserData;

    /// <summary>
    /// 0 when <see cref="Reply"/> holds the reply; otherwise a negative errno:
    /// <see cref="RpalErrno.ECONNRESET"/> (the peer died or the connection was released),
    /// <see cref="RpalErrno.EPROTO"/> (malformed reply, or the peer rejected the request).
    /// </summary>
    public int Result;

    /// <summary>Reserved.</summary>
    public uint Reserved;

    /// <summary>The reply, valid when <see cref="Result"/> is 0: release its payload with <see cref="RpalConnection.Release"/>.</summary>
    public RpalMessage Reply;
}
