using System.Runtime.InteropServices;

namespace Rpal.Runtime.Interop;

/// <summary>Mirror of <c>struct rpal_service_entry</c>; <see cref="RpalServiceEntry"/> is its public form.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct RpalNativeServiceEntry
{
    /// <summary><c>RPAL_SERVICE_LIVE</c>.</summary>
    public const uint Live = 1;

    public uint Size;
    public uint Flags;
    public int Pid;
    public int Slot;
    public ulong Key;
    public uint Connections;
    public uint Reserved;
    /// <summary><c>char name[RPAL_NAME_MAX + 1]</c>, NUL-terminated.</summary>
    public fixed byte Name[NativeMethods.NameMax + 1];
}
