using System.Runtime.InteropServices;

namespace Rpal.Runtime.Interop;

/// <summary>Mirror of <c>struct rpal_fiber</c>: the saved stack pointer of a switched-out fiber.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RpalNativeFiber
{
    public nint Sp;
}
