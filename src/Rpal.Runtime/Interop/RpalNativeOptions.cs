using System.Runtime.InteropServices;

namespace Rpal.Runtime.Interop;

/// <summary>Mirror of <c>struct rpal_options</c> (56 bytes).</summary>
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
}
