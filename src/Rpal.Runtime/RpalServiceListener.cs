using System.Diagnostics.CodeAnalysis;
using Rpal.Runtime.Interop;

namespace Rpal.Runtime;

/// <summary>
/// A service registered under a name (<c>struct rpal_service</c>): clients connect to it with
/// <see cref="RpalConnection.Connect"/>, and the server takes them with <see cref="TryAccept"/>,
/// typically when an <see cref="RpalReceiver"/> reports the listener ready.
/// </summary>
/// <remarks>
/// Disposing unregisters the service (connections already accepted stay up). As for
/// <see cref="RpalConnection"/>, the native unregistration waits for a <see cref="TryAccept"/>
/// in flight, and for a listener in an <see cref="RpalReceiver"/> it happens on the receiver's
/// thread once the listener has left the receiver's set.
/// </remarks>
public sealed unsafe class RpalServiceListener : IDisposable
{
    private readonly RpalServiceHandle _handle;
    private readonly int _fd;
    private readonly Lock _acceptLock = new();
    private ReceiverRegistration? _registration;
    private long _refused;

    private RpalServiceListener(RpalServiceHandle handle, string name, ulong key)
    {
        _handle = handle;
        Name = name;
        Key = key;
        int fd = NativeMethods.rpal_service_fd(handle.DangerousGetHandle());
        if (fd < 0)
        {
            handle.Dispose();
            ThrowHelper.ThrowRpal(fd, "rpal_service_fd");
        }

        _fd = fd;
    }

    /// <summary>
    /// Registers <paramref name="name"/> (1 to 64 bytes of [A-Za-z0-9._-], not starting with '.')
    /// in the runtime directory and listens (rpal_register_service). Throws
    /// <see cref="RpalException"/>: EADDRINUSE when a live process (this one included) serves the
    /// name, EINVAL or ENAMETOOLONG for a bad name, ENOTCONN before <see cref="RpalEngine.Start"/>.
    /// </summary>
    /// <param name="name">The service name.</param>
    /// <param name="allow">
    /// Users and groups admitted besides this process's own uid (null: only the own uid). A
    /// client of another user is refused with EACCES on both sides.
    /// </param>
    /// <param name="maxConnections">
    /// Live connections accepted at once; a client past it is refused with EUSERS. 0: no limit.
    /// </param>
    public static RpalServiceListener Register(string name, RpalAccess? allow = null, int maxConnections = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfNegative(maxConnections);
        var handle = new RpalServiceHandle();
        nint svc;
        ulong key;
        uint[] uids = allow?.UserIds.ToArray() ?? [];
        uint[] gids = allow?.GroupIds.ToArray() ?? [];
        int rc;
        fixed (uint* u = uids)
        fixed (uint* g = gids)
        {
            var p = new RpalNativeServiceParams
            {
                Size = (uint)sizeof(RpalNativeServiceParams),
                MaxConns = (uint)maxConnections,
                Allow = RpalAccess.ToNative(u, uids.Length, g, gids.Length),
            };
            RpalEngine.ClearLastError();
            rc = NativeMethods.rpal_register_service_params(name, &p, &svc, &key);
        }

        if (rc < 0)
        {
            handle.Dispose();
            ThrowHelper.ThrowRpal(rc, $"rpal_register_service('{name}')" + RpalEngine.LastErrorSuffix());
        }

        handle.Set(svc);
        return new RpalServiceListener(handle, name, key);
    }

    /// <summary>The service name.</summary>
    public string Name { get; }

    /// <summary>Clients <see cref="TryAccept"/> refused so far (the engine told each why).</summary>
    public long RefusedCount => Interlocked.Read(ref _refused);

    /// <summary>The service's random non-zero key, which clients see in <see cref="RpalPeerInfo.Key"/>.</summary>
    public ulong Key { get; }

    /// <summary>
    /// The listening fd (non-blocking): readable (<see cref="RpalEpollEvents.In"/>) while a
    /// client waits. For an epoll set only: do not read or close it.
    /// </summary>
    public int Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsDisposed, this);
            return _fd;
        }
    }

    /// <summary>True once <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed => _handle.IsDisposed;

    /// <summary>The fd, without the disposed check (for callers that hold a reference).</summary>
    internal int RawFd => _fd;

    internal RpalServiceHandle Handle => _handle;

    internal ReceiverRegistration? Registration => Volatile.Read(ref _registration);

    /// <summary>Links this to a receiver's registration; false when it already has one.</summary>
    internal bool TryLink(ReceiverRegistration registration) =>
        Interlocked.CompareExchange(ref _registration, registration, null) is null;

    /// <summary>Undoes <see cref="TryLink"/> (only for that registration).</summary>
    internal void Unlink(ReceiverRegistration registration) =>
        Interlocked.CompareExchange(ref _registration, null, registration);

    /// <summary>
    /// Accepts one waiting client and completes the handshake (rpal_accept); call it in a loop
    /// until it returns false. Returns false when nothing is ready (EAGAIN), and also when the
    /// engine refused a client (another uid the service does not admit, the connection limit, the
    /// arena's share for connections, the process's reserve of file descriptors, no room in the
    /// arena, a malformed hello, an unsealed arena, no hello within 500 ms, it hung up first, too
    /// many handshakes at once: EACCES, EUSERS, ENOSPC, EMFILE, ENFILE, ENOMEM, EPROTO, EBADFD,
    /// ETIMEDOUT, ECONNREFUSED, EBUSY); the engine told the client why, the refusal is counted in
    /// <see cref="RefusedCount"/> and reported through <see cref="RpalEngine.Log"/>, and the next
    /// call handles the next client. Throws <see cref="RpalException"/> for other errors and
    /// <see cref="ObjectDisposedException"/> after <see cref="Dispose"/>. Never waits for a
    /// client: one whose hello has not arrived is finished by a later call.
    /// </summary>
    public bool TryAccept([NotNullWhen(true)] out RpalConnection? connection)
    {
        connection = null;
        if (!_handle.TryAcquire(out nint svc))
        {
            ThrowHelper.ThrowDisposed(this);
        }

        int rc;
        nint conn;
        try
        {
            // The engine serialises accepts on different services only.
            lock (_acceptLock)
            {
                rc = NativeMethods.rpal_accept(svc, &conn);
            }
        }
        finally
        {
            _handle.DangerousRelease();
        }

        switch (-rc)
        {
            case 0:
                connection = RpalConnection.FromAccepted(conn);
                return true;
            case RpalErrno.EAGAIN:
                return false;
            case RpalErrno.EACCES:
            case RpalErrno.EUSERS:
            case RpalErrno.ENOSPC:
            case RpalErrno.EMFILE:
            case RpalErrno.ENFILE:
            case RpalErrno.ENOMEM:
            case RpalErrno.ESRCH:
            case RpalErrno.EBUSY:
            case RpalErrno.ECONNRESET:
            case RpalErrno.EPIPE:
            case RpalErrno.EPROTO:
            case RpalErrno.EBADFD:
            case RpalErrno.ETIMEDOUT:
            case RpalErrno.ECONNREFUSED:
                Interlocked.Increment(ref _refused);
                RpalEngine.WriteLog(
                    RpalEngine.LogLevelWarning,
                    RpalLogCode.PeerRefused,
                    $"service {Name}: refused a client: {RpalErrno.GetMessage(rc)} ({RpalErrno.GetName(rc)})");
                return false;
            default:
                ThrowHelper.ThrowRpal(rc, $"rpal_accept('{Name}')");
                return false;
        }
    }

    /// <summary>
    /// Checks that the service is still registered where clients look for it, and registers it
    /// again when its runtime directory, or its entry there, was removed or replaced
    /// (rpal_service_check; a server calls it periodically). Returns 0 when the registration is
    /// intact; 1 when it was restored; -EADDRINUSE when another live process took the name (or
    /// this process's slot) meanwhile: the service then stays unregistered, and a later call
    /// takes the name back once that process is gone; -EPERM when the runtime directory is no
    /// longer private to this user; another negative errno when the directory or its files
    /// cannot be made. The engine logs the reason of a failure (<see cref="RpalEngine.Log"/>);
    /// <paramref name="reason"/> holds it. -EBADF after <see cref="Dispose"/>.
    /// </summary>
    public int CheckRegistration(out string? reason)
    {
        reason = null;
        if (!_handle.TryAcquire(out nint svc))
        {
            return -RpalErrno.EBADF;
        }

        try
        {
            RpalEngine.ClearLastError();
            int rc = NativeMethods.rpal_service_check(svc);
            if (rc < 0)
            {
                string suffix = RpalEngine.LastErrorSuffix();
                reason = $"{RpalErrno.GetMessage(rc)} ({RpalErrno.GetName(rc)}){suffix}";
            }

            return rc;
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Unregisters the service (rpal_unregister_service): closes the listening socket and removes
    /// the registry entry; clients not accepted yet are dropped. Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (_handle.IsDisposed)
        {
            return;
        }

        _handle.Dispose();
        if (Registration is { } registration)
        {
            registration.Receiver.OnMemberDisposed(registration);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"RpalServiceListener {Name}";
}
