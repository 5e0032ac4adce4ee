using Rpal.Runtime.Interop;

namespace Rpal.Runtime;

/// <summary>
/// An epoll set that also reports RPAL connection events (rpal_epoll_create), and the
/// connections' progress engine: each wait takes their replies and releases and notices dead
/// peers. <see cref="RpalReceiver"/> runs one on its own thread; use this class directly for a
/// loop of your own.
/// </summary>
/// <remarks>
/// Several threads may wait on one set, and add, modify or remove from any thread. The engine's
/// rule for connections applies: a connection in this set must not be disposed while another
/// thread waits on the set; remove it (or dispose it) from the waiting thread.
/// <see cref="RpalReceiver"/> follows this rule by itself. After <see cref="Dispose"/>,
/// <see cref="Wait"/> returns -EBADF and the other methods throw <see cref="ObjectDisposedException"/>.
/// </remarks>
public sealed unsafe class RpalEpoll : IDisposable
{
    private readonly RpalEpollHandle _handle;

    private RpalEpoll(RpalEpollHandle handle) => _handle = handle;

    /// <summary>Creates a set (close-on-exec). Throws <see cref="RpalException"/> (EMFILE: at most 256 per process).</summary>
    public static RpalEpoll Create()
    {
        int fd = NativeMethods.rpal_epoll_create(NativeMethods.EpollCloexec);
        if (fd < 0)
        {
            ThrowHelper.ThrowRpal(fd, "rpal_epoll_create");
        }

        return new RpalEpoll(new RpalEpollHandle(fd));
    }

    /// <summary>The set's epoll fd.</summary>
    public int Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsDisposed, this);
            return _handle.Fd;
        }
    }

    /// <summary>
    /// Adds a connection: its RPAL events (<paramref name="events"/> a mask of
    /// <see cref="RpalEpollEvents.RpalIn"/>, <see cref="RpalEpollEvents.RpalReply"/>,
    /// <see cref="RpalEpollEvents.RpalHangup"/>; 0 means all three) are reported,
    /// level-triggered, with <paramref name="data"/>. Throws <see cref="RpalException"/>: EEXIST
    /// when already in this set, EBUSY when in another one (a connection is in at most one set),
    /// EINVAL for other event bits.
    /// </summary>
    public void Add(RpalConnection connection, uint events, ulong data) =>
        ControlConnection(NativeMethods.EpollCtlAdd, connection, events, data, "EPOLL_CTL_ADD");

    /// <summary>Adds an ordinary fd, exactly as epoll_ctl(EPOLL_CTL_ADD). Throws <see cref="RpalException"/>.</summary>
    public void Add(int fd, uint events, ulong data) => ControlFd(NativeMethods.EpollCtlAdd, fd, events, data, "EPOLL_CTL_ADD");

    /// <summary>Changes a connection's event mask and data. Throws <see cref="RpalException"/> (ENOENT when not in this set).</summary>
    public void Modify(RpalConnection connection, uint events, ulong data) =>
        ControlConnection(NativeMethods.EpollCtlMod, connection, events, data, "EPOLL_CTL_MOD");

    /// <summary>Changes an ordinary fd's events and data. Throws <see cref="RpalException"/>.</summary>
    public void Modify(int fd, uint events, ulong data) => ControlFd(NativeMethods.EpollCtlMod, fd, events, data, "EPOLL_CTL_MOD");

    /// <summary>Removes a connection. Throws <see cref="RpalException"/> (ENOENT when not in this set).</summary>
    public void Remove(RpalConnection connection) =>
        ControlConnection(NativeMethods.EpollCtlDel, connection, 0, 0, "EPOLL_CTL_DEL");

    /// <summary>Removes an ordinary fd. Throws <see cref="RpalException"/>.</summary>
    public void Remove(int fd) => ControlFd(NativeMethods.EpollCtlDel, fd, 0, 0, "EPOLL_CTL_DEL");

    /// <summary>
    /// Waits for events (rpal_epoll_wait): connection events first, then ordinary fds. While
    /// nothing is ready it spins for the spin budget, then parks. <paramref name="timeoutMs"/>
    /// below 0 waits forever, 0 only looks. Returns the number of events written to
    /// <paramref name="events"/> (0 on timeout), or a negative errno: -EINTR when a signal
    /// interrupted the sleep, -EINVAL for an empty span, -EBADF after <see cref="Dispose"/>.
    /// </summary>
    public int Wait(Span<RpalEpollEvent> events, int timeoutMs)
    {
        if (!_handle.TryAcquire(out int epfd))
        {
            return -RpalErrno.EBADF;
        }

        try
        {
            fixed (RpalEpollEvent* e = events)
            {
                return NativeMethods.rpal_epoll_wait(epfd, e, events.Length, timeoutMs);
            }
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>As <see cref="Remove(int)"/>, returning the result instead of throwing.</summary>
    internal int TryRemove(int fd) => TryControl(NativeMethods.EpollCtlDel, fd, 0, 0);

    /// <summary>As <see cref="Modify(int, uint, ulong)"/>, returning the result instead of throwing.</summary>
    internal int TryModify(int fd, uint events, ulong data) => TryControl(NativeMethods.EpollCtlMod, fd, events, data);

    private int TryControl(int op, int fd, uint events, ulong data)
    {
        if (!_handle.TryAcquire(out int epfd))
        {
            return -RpalErrno.EBADF;
        }

        try
        {
            var ev = new RpalEpollEvent { Events = events, Data = data };
            return NativeMethods.rpal_epoll_ctl(epfd, op, fd, op == NativeMethods.EpollCtlDel ? null : &ev);
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Closes the set (rpal_epoll_close), once no thread waits on it any more; its connections
    /// leave it but stay open. Idempotent.
    /// </summary>
    public void Dispose() => _handle.Dispose();

    private void ControlConnection(int op, RpalConnection connection, uint events, ulong data, string what)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!connection.Handle.TryAcquire(out _))
        {
            ThrowHelper.ThrowDisposed(connection);
        }

        try
        {
            ControlFd(op, connection.RawFd, events, data, what);
        }
        finally
        {
            connection.Handle.DangerousRelease();
        }
    }

    private void ControlFd(int op, int fd, uint events, ulong data, string what)
    {
        if (!_handle.TryAcquire(out int epfd))
        {
            ThrowHelper.ThrowDisposed(this);
        }

        int rc;
        try
        {
            var ev = new RpalEpollEvent { Events = events, Data = data };
            rc = NativeMethods.rpal_epoll_ctl(epfd, op, fd, op == NativeMethods.EpollCtlDel ? null : &ev);
        }
        finally
        {
            _handle.DangerousRelease();
        }

        if (rc < 0)
        {
            ThrowHelper.ThrowRpal(rc, $"rpal_epoll_ctl({what}, fd {fd})");
        }
    }
}
