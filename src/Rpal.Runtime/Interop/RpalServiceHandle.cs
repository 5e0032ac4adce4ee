namespace Rpal.Runtime.Interop;

/// <summary>Owns a <c>struct rpal_service *</c>; releasing it calls <c>rpal_unregister_service</c>.</summary>
internal sealed class RpalServiceHandle : RpalPointerHandle
{
    protected override bool ReleaseHandle() => NativeMethods.rpal_unregister_service(handle) == 0;
}
