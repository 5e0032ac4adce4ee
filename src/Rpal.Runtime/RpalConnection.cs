using System.Runtime.InteropServices;
using Rpal.Runtime.Interop;

namespace Rpal.Runtime;

/// <summary>
/// A connection between this process and a peer (<c>struct rpal_conn</c>): either end may send
/// one-way messages, make calls and answer calls. Thread-safe, as the engine is.
/// </summary>
/// <remarks>
/// <para>
/// The message operations mirror the C API and return its result instead of throwing, so that
/// hot paths never throw: 0 (or a count) on success, a negative errno (<see cref="RpalErrno"/>)
/// on failure. After <see cref="Dispose"/> they return <c>-EBADF</c>, and the properties throw
/// <see cref="ObjectDisposedException"/>. A message passed to an operation that returns
/// <c>-EBADF</c> this way was not taken: its payload is still the caller's.
/// </para>
/// <para>
/// Disposing never races with an operation in flight: each operation holds a reference on the
/// native connection, and rpal_release_service runs when the last one returns. A connection
/// that belongs to an <see cref="RpalReceiver"/> is taken out of the receiver's set and
/// released on the receiver's thread (the engine forbids releasing a connection while another
/// thread waits on its set).
/// </para>
/// </remarks>
public sealed unsafe partial class RpalConnection : IDisposable
{
    private readonly RpalConnectionHandle _handle;
    private readonly int _fd;
    private RpalPeerInfo? _peerInfo;
    private ReceiverRegistration? _registration;

    private RpalConnection(RpalConnectionHandle handle)
    {
        _handle = handle;
        int fd = NativeMethods.rpal_conn_fd(handle.DangerousGetHandle());
        if (fd < 0)
        {
            handle.Dispose();
            ThrowHelper.ThrowRpal(fd, "rpal_conn_fd");
        }

        _fd = fd;
    }

    /// <summary>
    /// Connects to the service registered under <paramref name="name"/> (rpal_request_service).
    /// Throws <see cref="RpalException"/>: ENOENT when nobody serves the name (a client usually
    /// retries while the server starts), EACCES, ECONNREFUSED, EPROTO, EBADFD, ETIMEDOUT (the
    /// server did not answer within 2 s), EINVAL or ENAMETOOLONG for a bad name, ENOTCONN before
    /// <see cref="RpalEngine.Start"/>, EUSERS when the service is at its connection limit.
    /// </summary>
    /// <param name="name">The service name.</param>
    /// <param name="trust">
    /// Users and groups this client accepts as the server besides its own uid (null: only the
    /// own uid; a server of another user is refused with EACCES).
    /// </param>
    public static RpalConnection Connect(string name, RpalAccess? trust = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        var handle = new RpalConnectionHandle();
        nint conn;
        uint[] uids = trust?.UserIds.ToArray() ?? [];
        uint[] gids = trust?.GroupIds.ToArray() ?? [];
        int rc;
        fixed (uint* u = uids)
        fixed (uint* g = gids)
        {
            var p = new RpalNativeRequestParams
            {
                Size = (uint)sizeof(RpalNativeRequestParams),
                Trust = RpalAccess.ToNative(u, uids.Length, g, gids.Length),
            };
            RpalEngine.ClearLastError();
            rc = NativeMethods.rpal_request_service_params(name, &p, &conn);
        }

        if (rc < 0)
        {
            handle.Dispose();
            ThrowHelper.ThrowRpal(rc, $"rpal_request_service('{name}')" + RpalEngine.LastErrorSuffix());
        }

        handle.Set(conn);
        return new RpalConnection(handle);
    }

    /// <summary>Wraps a connection the engine just created (rpal_accept).</summary>
    internal static RpalConnection FromAccepted(nint conn)
    {
        var handle = new RpalConnectionHandle();
        handle.Set(conn);
        return new RpalConnection(handle);
    }

    /// <summary>The connection's fd, for <see cref="RpalEpoll.Add(RpalConnection, uint, ulong)"/> only: do not read, write or close it.</summary>
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

    /// <summary>What is known about the peer (read once, then cached).</summary>
    public RpalPeerInfo PeerInfo
    {
        get
        {
            if (_peerInfo is { } info)
            {
                return info;
            }

            RpalNativePeerInfo native = default;
            int rc = Enter(out nint conn);
            if (rc == 0)
            {
                rc = NativeMethods.rpal_conn_info(conn, &native);
                _handle.DangerousRelease();
            }

            ThrowIfFailed(rc, "rpal_conn_info");
            return _peerInfo = new RpalPeerInfo(native);
        }
    }

    /// <summary>The counters of this end, read now.</summary>
    public RpalConnectionStats Stats
    {
        get
        {
            RpalConnectionStats stats = default;
            int rc = Enter(out nint conn);
            if (rc == 0)
            {
                rc = NativeMethods.rpal_conn_stats(conn, &stats);
                _handle.DangerousRelease();
            }

            ThrowIfFailed(rc, "rpal_conn_stats");
            return stats;
        }
    }

    /// <summary>The receiver this connection belongs to, if any (set by <see cref="RpalReceiver.Add(RpalConnection, ulong)"/>).</summary>
    internal ReceiverRegistration? Registration => Volatile.Read(ref _registration);

    /// <summary>Links this to a receiver's registration; false when it already has one.</summary>
    internal bool TryLink(ReceiverRegistration registration) =>
        Interlocked.CompareExchange(ref _registration, registration, null) is null;

    /// <summary>Undoes <see cref="TryLink"/> (only for that registration).</summary>
    internal void Unlink(ReceiverRegistration registration) =>
        Interlocked.CompareExchange(ref _registration, null, registration);

    internal RpalConnectionHandle Handle => _handle;

    /// <summary>
    /// Sends a one-way message (rpal_send); its payload, if any, is lent to the peer until it
    /// releases it. Waits while the ring is full, unless <see cref="RpalMessage.Flags"/> has
    /// <see cref="RpalMessage.DontWait"/>: then -EAGAIN (nothing taken; see
    /// <see cref="SendAsync"/>, which never blocks). Returns 0; -EINVAL for a bad payload (not
    /// taken); -ECONNRESET or -EPROTO when the connection failed (payload freed); -EBADF after
    /// <see cref="Dispose"/>.
    /// </summary>
    public int Send(in RpalMessage message)
    {
        int rc = Enter(out nint conn);
        if (rc == 0)
        {
            fixed (RpalMessage* m = &message)
            {
                rc = NativeMethods.rpal_send(conn, m);
            }

            _handle.DangerousRelease();
        }

        return rc;
    }

    /// <summary>
    /// Takes the next request or one-way message without waiting (rpal_recv). Returns 0 and
    /// <paramref name="message"/> (<see cref="RpalMessage.Id"/> non-zero for a call, to answer
    /// with <see cref="Reply(ulong, in RpalMessage)"/>; 0 for a one-way message, to give back with
    /// <see cref="Release"/>); -EAGAIN when there is none; -ECONNRESET or -EPROTO when the
    /// connection failed; -EBADF after <see cref="Dispose"/>.
    /// </summary>
    public int Receive(out RpalMessage message)
    {
        message = default;
        int rc = Enter(out nint conn);
        if (rc == 0)
        {
            fixed (RpalMessage* m = &message)
            {
                rc = NativeMethods.rpal_recv(conn, m);
            }

            _handle.DangerousRelease();
        }

        return rc;
    }

    /// <summary>
    /// Answers call <paramref name="id"/> (rpal_reply); the request's payload becomes invalid,
    /// and the reply's payload is lent to the caller. Never waits. Returns 0; -EINVAL for id 0 or
    /// a bad payload; -ECONNRESET, -ENOBUFS, -EPROTO when the connection failed (payload freed);
    /// -EBADF after <see cref="Dispose"/>.
    /// </summary>
    public int Reply(ulong id, in RpalMessage reply)
    {
        int rc = Enter(out nint conn);
        if (rc == 0)
        {
            fixed (RpalMessage* m = &reply)
            {
                rc = NativeMethods.rpal_reply(conn, id, m);
            }

            _handle.DangerousRelease();
        }

        return rc;
    }

    /// <summary>
    /// Gives a received one-way message's or reply's payload back to its owner (rpal_release);
    /// does nothing for a message without payload. Returns 0; -EINVAL; -ECONNRESET; -ENOBUFS;
    /// -EBADF after <see cref="Dispose"/> (the payload then went back when the connection was released).
    /// </summary>
    public int Release(in RpalMessage message)
    {
        if (message.Data == 0)
        {
            return 0;
        }

        int rc = Enter(out nint conn);
        if (rc == 0)
        {
            fixed (RpalMessage* m = &message)
            {
                rc = NativeMethods.rpal_release(conn, m);
            }

            _handle.DangerousRelease();
        }

        return rc;
    }

    /// <summary>
    /// Calls the peer and waits for its reply (rpal_call): spins for the spin budget, then parks.
    /// The request's payload belongs to the engine from now on (except after -EINVAL or -EBADF).
    /// <paramref name="timeoutMs"/> below 0 waits forever. Returns 0 and <paramref name="reply"/>
    /// (release its payload with <see cref="Release"/>); -ETIMEDOUT; -ECONNRESET when the peer
    /// died or the connection was released; -EPROTO; -EINVAL; -EBADF after <see cref="Dispose"/>.
    /// </summary>
    public int Call(in RpalMessage request, out RpalMessage reply, int timeoutMs)
    {
        reply = default;
        int rc = Enter(out nint conn);
        if (rc == 0)
        {
            fixed (RpalMessage* req = &request)
            fixed (RpalMessage* rep = &reply)
            {
                rc = NativeMethods.rpal_call(conn, req, rep, timeoutMs);
            }

            _handle.DangerousRelease();
        }

        return rc;
    }

    /// <summary>
    /// Submits a call without waiting (rpal_call_submit); its completion, tagged with
    /// <paramref name="userData"/>, is taken with <see cref="Complete"/> (an
    /// <see cref="RpalReceiver"/> reports <see cref="RpalEpollEvents.RpalReply"/> when one is
    /// ready). <paramref name="callId"/> is the id the peer sees. Waits while the connection has
    /// its maximum of calls in flight or the ring is full. Returns 0 (exactly one completion
    /// follows); -EINVAL; -ECONNRESET; -EBADF after <see cref="Dispose"/> (no completion follows
    /// an error).
    /// </summary>
    public int Submit(in RpalMessage request, ulong userData, out ulong callId)
    {
        ulong id = 0;
        int rc = Enter(out nint conn);
        if (rc == 0)
        {
            fixed (RpalMessage* req = &request)
            {
                rc = NativeMethods.rpal_call_submit(conn, req, userData, &id);
            }

            _handle.DangerousRelease();
        }

        callId = id;
        return rc;
    }

    /// <summary>
    /// Submits a call as <see cref="Submit(in RpalMessage, ulong, out ulong)"/> does, then spins on this thread for its reply for up
    /// to <paramref name="spin"/> (null: the engine's <see cref="RpalEngine.SpinBudget"/>)
    /// (rpal_call_submit_spin). Returns 1 when the reply came within the spin:
    /// <paramref name="completion"/> holds it and no completion follows; 0 when the spin ended
    /// first: the call goes on as a submitted call, its completion taken with
    /// <see cref="Complete"/>; or <see cref="Submit(in RpalMessage, ulong, out ulong)"/>'s errors. <paramref name="callId"/> is the
    /// id the peer sees, in both cases.
    /// </summary>
    public int SubmitAndSpin(in RpalMessage request, ulong userData, TimeSpan? spin, out ulong callId, out RpalCompletion completion)
    {
        long spinNs = spin is { } s ? (long)(s.Ticks * 100) : -1;
        ArgumentOutOfRangeException.ThrowIfLessThan(spinNs, -1, nameof(spin));
        ulong id = 0;
        completion = default;
        int rc = Enter(out nint conn);
        if (rc == 0)
        {
            fixed (RpalMessage* req = &request)
            fixed (RpalCompletion* done = &completion)
            {
                rc = NativeMethods.rpal_call_submit_spin(conn, req, userData, spinNs, &id, done);
            }

            _handle.DangerousRelease();
        }

        callId = id;
        return rc;
    }

    /// <summary>
    /// Takes one completion of a submitted call without waiting (rpal_call_complete). Returns 0
    /// and <paramref name="completion"/>; -EAGAIN when none is ready; the connection's error
    /// when none is ready and it failed; -EBADF after <see cref="Dispose"/>.
    /// </summary>
    public int Complete(out RpalCompletion completion)
    {
        completion = default;
        int rc = Enter(out nint conn);
        if (rc == 0)
        {
            fixed (RpalCompletion* c = &completion)
            {
                rc = NativeMethods.rpal_call_complete(conn, c);
            }

            _handle.DangerousRelease();
        }

        return rc;
    }

    /// <summary>
    /// Disconnects without releasing (rpal_conn_shutdown): the peer sees
    /// <see cref="RpalEpollEvents.RpalHangup"/> and its calls fail as if this side had disposed the
    /// connection; calls in flight on this side fail with -ECONNRESET, and later operations return
    /// -ECONNRESET. Unlike <see cref="Dispose"/> it takes effect at once even while another thread
    /// is inside an operation or the connection's receiver is busy (a handler that never returns):
    /// the native connection stays valid for them, and is released by <see cref="Dispose"/> once
    /// they are done. Idempotent; does nothing after <see cref="Dispose"/>. Returns 0, or -EBADF
    /// after <see cref="Dispose"/>.
    /// </summary>
    public int Shutdown()
    {
        int rc = Enter(out nint conn);
        if (rc == 0)
        {
            rc = NativeMethods.rpal_conn_shutdown(conn);
            _handle.DangerousRelease();
        }

        return rc;
    }

    /// <summary>
    /// Disconnects (rpal_release_service): the peer sees <see cref="RpalEpollEvents.RpalHangup"/>,
    /// calls still in flight on this side fail with -ECONNRESET, pointers into the peer's arena
    /// become invalid. The native release happens when the last operation in flight on another
    /// thread returns, and for a connection in an <see cref="RpalReceiver"/>, on the receiver's
    /// thread. Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (_handle.IsDisposed)
        {
            return;
        }

        _handle.Dispose();
        OnRoom(); // senders waiting for room see -EBADF
        // Read after the handle is closed: RpalReceiver.Add publishes the registration before
        // it checks IsDisposed, so one of the two sees the other.
        if (Registration is { } registration)
        {
            registration.Receiver.OnMemberDisposed(registration);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => _peerInfo is { } info ? $"RpalConnection {info}" : $"RpalConnection fd {_fd}";

    private int Enter(out nint conn) => _handle.TryAcquire(out conn) ? 0 : -RpalErrno.EBADF;

    private void ThrowIfFailed(int rc, string operation)
    {
        if (rc == -RpalErrno.EBADF && _handle.IsDisposed)
        {
            ThrowHelper.ThrowDisposed(this);
        }

        if (rc < 0)
        {
            ThrowHelper.ThrowRpal(rc, operation);
        }
    }
}
