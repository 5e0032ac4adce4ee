namespace Rpal.Runtime.Interop;

/// <summary>Owns a <c>struct rpal_conn *</c>; releasing it calls <c>rpal_release_service</c>.</summary>
internal sealed class RpalConnectionHandle : RpalPointerHandle
{
    protected override bool ReleaseHandle() => NativeMethods.rpal_release_service(handle) == 0;
}
