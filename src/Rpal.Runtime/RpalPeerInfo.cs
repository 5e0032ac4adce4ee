using System.Text;
using Rpal.Runtime.Interop;

namespace Rpal.Runtime;

/// <summary>
/// What is known about the other end of a connection (<c>struct rpal_peer_info</c>). The process,
/// user and group ids come from the kernel (SO_PEERCRED), not from the peer.
/// </summary>
public sealed class RpalPeerInfo
{
    internal unsafe RpalPeerInfo(in RpalNativePeerInfo info)
    {
        ProcessId = info.Pid;
        UserId = info.Uid;
        GroupId = info.Gid;
        Slot = info.Slot;
        Key = info.Key;
        ArenaBase = info.ArenaBase;
        ArenaSize = info.ArenaSize;
        fixed (byte* name = info.Name)
        {
            var bytes = new ReadOnlySpan<byte>(name, NativeMethods.NameMax + 1);
            int end = bytes.IndexOf((byte)0); // the engine terminates it; do not rely on it
            Name = Encoding.UTF8.GetString(end >= 0 ? bytes[..end] : bytes[..NativeMethods.NameMax]);
        }
    }

    /// <summary>The peer's process id.</summary>
    public int ProcessId { get; }

    /// <summary>The peer's user id.</summary>
    public uint UserId { get; }

    /// <summary>The peer's group id.</summary>
    public uint GroupId { get; }

    /// <summary>The peer's slot.</summary>
    public int Slot { get; }

    /// <summary>The service key of the server end (the same on both ends).</summary>
    public ulong Key { get; }

    /// <summary>Where the peer's arena is mapped, read-only, in this process.</summary>
    public ulong ArenaBase { get; }

    /// <summary>The size of the peer's arena in bytes.</summary>
    public ulong ArenaSize { get; }

    /// <summary>The service name.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} (pid {ProcessId}, slot {Slot})";
}
