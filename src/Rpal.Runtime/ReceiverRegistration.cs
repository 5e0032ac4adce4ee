using System.Runtime.InteropServices;

namespace Rpal.Runtime;

/// <summary>
/// A connection or listener in an <see cref="RpalReceiver"/>'s set. It holds a reference on the
/// member's SafeHandle from <see cref="RpalReceiver.Add(RpalConnection, ulong)"/> until the
/// receiver detaches it on its own thread, so the native object is released (or unregistered)
/// only once it has left the set.
/// </summary>
internal sealed class ReceiverRegistration
{
    internal ReceiverRegistration(
        RpalReceiver receiver,
        int index,
        uint generation,
        SafeHandle handle,
        int fd,
        RpalConnection? connection,
        RpalServiceListener? listener,
        Action<RpalServiceListener>? onAcceptReady,
        ulong token,
        uint events)
    {
        Events = events;
        Receiver = receiver;
        Index = index;
        Generation = generation;
        Handle = handle;
        Fd = fd;
        Connection = connection;
        Listener = listener;
        OnAcceptReady = onAcceptReady;
        Token = token;
    }

    internal RpalReceiver Receiver { get; }

    /// <summary>Slot in the receiver's table.</summary>
    internal int Index { get; }

    /// <summary>Tells this registration from an earlier one in the same slot.</summary>
    internal uint Generation { get; }

    internal SafeHandle Handle { get; }

    internal int Fd { get; }

    internal RpalConnection? Connection { get; }

    internal RpalServiceListener? Listener { get; }

    internal Action<RpalServiceListener>? OnAcceptReady { get; }

    internal ulong Token { get; }

    /// <summary>The RPAL events the connection is watched for (0 for a listener).</summary>
    internal uint Events { get; set; }

    /// <summary>The epoll data: generation in the high half, slot in the low half.</summary>
    internal ulong Data => ((ulong)Generation << 32) | (uint)Index;

    /// <summary>True from registration until detached; written under the receiver's registration lock.</summary>
    internal bool Active { get; set; }

    /// <summary>True once the connection's hang-up was reported and masked out (receiver thread only).</summary>
    internal bool HangupReported { get; set; }

    /// <summary>Links the member to this registration; false when it is already in a receiver.</summary>
    internal bool LinkMember() => Connection?.TryLink(this) ?? Listener!.TryLink(this);

    /// <summary>Forgets the member's link back to this registration.</summary>
    internal void ClearMember()
    {
        Connection?.Unlink(this);
        Listener?.Unlink(this);
    }
}
