using System.Runtime.InteropServices;

namespace Rpal.Runtime.Interop;

/// <summary>
/// A file descriptor owned by a SafeHandle (invalid value -1, as 0 is a valid fd). Subclasses say
/// how to close it.
/// </summary>
internal abstract class RpalFdHandle : SafeHandle
{
    protected RpalFdHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    // Set by Dispose. SafeHandle's own IsClosed turns true only when the last reference is
    // gone, and DangerousAddRef keeps succeeding until then; operations must fail from the
    // moment Dispose is called.
    private volatile bool _disposed;

    /// <summary>True once Dispose was called (the native object may live on while references remain).</summary>
    internal bool IsDisposed => _disposed;

    public override bool IsInvalid => handle < 0;

    /// <summary>The fd number; valid while the caller holds a reference or owns the handle.</summary>
    internal int Fd => (int)handle;

    /// <summary>As <see cref="RpalPointerHandle.TryAcquire"/>, for an fd.</summary>
    internal bool TryAcquire(out int fd)
    {
        bool added = false;
        if (_disposed)
        {
            fd = -1;
            return false;
        }

        try
        {
            DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            fd = -1;
            return false;
        }

        fd = (int)handle;
        return added;
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        base.Dispose(disposing);
    }
}
