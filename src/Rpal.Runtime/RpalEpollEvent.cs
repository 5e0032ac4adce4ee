using System.Runtime.InteropServices;

namespace Rpal.Runtime;

/// <summary>
/// One event of <see cref="RpalEpoll.Wait"/>: Linux x86-64 <c>struct epoll_event</c>, which is
/// packed (12 bytes, <see cref="Data"/> at offset 4).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public struct RpalEpollEvent
{
    /// <summary>Event bits: <see cref="RpalEpollEvents"/>.</summary>
    public uint Events;

    /// <summary>The data given when the fd or connection was added.</summary>
    public ulong Data;
}
