using System.Runtime.InteropServices;

namespace Rpal.Runtime.Interop;

/// <summary>Mirror of <c>struct rpal_peer_info</c>; <see cref="RpalPeerInfo"/> is its public form.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct RpalNativePeerInfo
{
    public int Pid;
    public uint Uid;
    public uint Gid;
    public int Slot;
    public ulong Key;
    public ulong ArenaBase;
    public ulong ArenaSize;
    /// <summary><c>char name[RPAL_NAME_MAX + 1]</c>, NUL-terminated.</summary>
    public fixed byte Name[NativeMethods.NameMax + 1];
}
