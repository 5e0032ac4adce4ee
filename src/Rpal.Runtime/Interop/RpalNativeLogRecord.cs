using System.Runtime.InteropServices;

namespace Rpal.Runtime.Interop;

/// <summary>Mirror of <c>struct rpal_log_record</c>, what <c>rpal_set_log_sink</c>'s sink receives.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RpalNativeLogRecord
{
    /// <summary>The library's sizeof: a field is there only when its end is within it.</summary>
    public uint Size;
    public int Level;
    public int Code;
    public uint Reserved;
    /// <summary><c>const char *message</c>, NUL-terminated UTF-8, valid during the call.</summary>
    public nint Message;
}
