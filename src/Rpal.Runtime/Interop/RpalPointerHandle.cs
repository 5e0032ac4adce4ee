using System.Runtime.InteropServices;

namespace Rpal.Runtime.Interop;

/// <summary>
/// A librpal object pointer (<c>struct rpal_conn *</c>, <c>struct rpal_service *</c>) owned by a
/// SafeHandle, so that a native call never races with the call that frees the object: every
/// call takes a reference first (<see cref="TryAcquire"/>) and the object is freed only when the
/// handle is disposed and the last reference is gone.
/// </summary>
internal abstract class RpalPointerHandle : SafeHandle
{
    protected RpalPointerHandle()
        : base(invalidHandleValue: 0, ownsHandle: true)
    {
    }

    // Set by Dispose. SafeHandle's own IsClosed turns true only when the last reference is
    // gone, and DangerousAddRef keeps succeeding until then; operations must fail from the
    // moment Dispose is called.
    private volatile bool _disposed;

    /// <summary>True once Dispose was called (the native object may live on while references remain).</summary>
    internal bool IsDisposed => _disposed;

    public override bool IsInvalid => handle == 0;

    /// <summary>The raw pointer, for the object's constructor.</summary>
    internal void Set(nint pointer) => SetHandle(pointer);

    /// <summary>
    /// Takes a reference and returns the pointer, or false once the handle is disposed. Pair
    /// every true result with <see cref="SafeHandle.DangerousRelease"/>.
    /// </summary>
    internal bool TryAcquire(out nint pointer)
    {
        bool added = false;
        if (_disposed)
        {
            pointer = 0;
            return false;
        }

        try
        {
            DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            pointer = 0;
            return false;
        }

        pointer = handle;
        return added;
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        base.Dispose(disposing);
    }
}
