using System.Runtime.InteropServices;

namespace Rpal.Runtime.Interop;

/// <summary>Mirror of <c>struct rpal_options</c> (64 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RpalNativeOptions
{
    public uint Size;
    public uint RingEntries;
    public ulong ArenaSize;
    public ulong SlotSize;
    public ulong WindowBase;
    public uint SlotCount;
    public uint MaxCalls;
    public long SpinNs;
    /// <summary><c>const char *runtime_dir</c>: NUL-terminated UTF-8, or 0.</summary>
    public nint RuntimeDir;
    /// <summary>-1: a private runtime directory; else the gid sharing it.</summary>
    public long RuntimeGroup;
}

/// <summary>Mirror of <c>struct rpal_access</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct RpalNativeAccess
{
    public uint* Uids;
    public uint UidCount;
    public uint GidCount;
    public uint* Gids;
}

/// <summary>Mirror of <c>struct rpal_service_params</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RpalNativeServiceParams
{
    public uint Size;
    public uint MaxConns;
    public RpalNativeAccess Allow;
}

/// <summary>Mirror of <c>struct rpal_request_params</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RpalNativeRequestParams
{
    public uint Size;
    public uint Reserved;
    public RpalNativeAccess Trust;
}
