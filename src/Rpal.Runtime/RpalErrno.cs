namespace Rpal.Runtime;

/// <summary>
/// The Linux errno values librpal's contract names (x86-64). The raw operations return them
/// negated (<c>-RpalErrno.EAGAIN</c>); <see cref="RpalException.Errno"/> holds them positive.
/// </summary>
public static class RpalErrno
{
    /// <summary>Operation not permitted (the runtime directory is not private to this user).</summary>
    public const int EPERM = 1;

    /// <summary>No such file or directory (nobody serves the name).</summary>
    public const int ENOENT = 2;

    /// <summary>No such process.</summary>
    public const int ESRCH = 3;

    /// <summary>Interrupted system call.</summary>
    public const int EINTR = 4;

    /// <summary>Input/output error.</summary>
    public const int EIO = 5;

    /// <summary>Bad file descriptor; also what operations on a disposed object return.</summary>
    public const int EBADF = 9;

    /// <summary>Resource temporarily unavailable (nothing to receive, complete or accept now).</summary>
    public const int EAGAIN = 11;

    /// <summary>Out of memory (the arena is full).</summary>
    public const int ENOMEM = 12;

    /// <summary>Permission denied (the peer runs under another user).</summary>
    public const int EACCES = 13;

    /// <summary>Device or resource busy (the connection is in another epoll set).</summary>
    public const int EBUSY = 16;

    /// <summary>File exists.</summary>
    public const int EEXIST = 17;

    /// <summary>Not a directory.</summary>
    public const int ENOTDIR = 20;

    /// <summary>Invalid argument.</summary>
    public const int EINVAL = 22;

    /// <summary>Too many open files in the system.</summary>
    public const int ENFILE = 23;

    /// <summary>
    /// Too many open files (this process's RLIMIT_NOFILE; from a server: it keeps its reserve of
    /// file descriptors and refused us).
    /// </summary>
    public const int EMFILE = 24;

    /// <summary>No space left on device (from a server: its connections hold the share of its arena they may take).</summary>
    public const int ENOSPC = 28;

    /// <summary>Broken pipe.</summary>
    public const int EPIPE = 32;

    /// <summary>File name too long (a service name over 64 bytes).</summary>
    public const int ENAMETOOLONG = 36;

    /// <summary>Protocol error (a malformed handshake, descriptor or ring).</summary>
    public const int EPROTO = 71;

    /// <summary>File descriptor in bad state (an unsealed or wrongly sized arena).</summary>
    public const int EBADFD = 77;

    /// <summary>Too many users (no free slot; from a server: the service is at its connection limit).</summary>
    public const int EUSERS = 87;

    /// <summary>Address already in use (a live process serves the name).</summary>
    public const int EADDRINUSE = 98;

    /// <summary>Connection reset by peer (the peer died or the connection was released).</summary>
    public const int ECONNRESET = 104;

    /// <summary>No buffer space available (the caller takes none of the queued replies).</summary>
    public const int ENOBUFS = 105;

    /// <summary>Transport endpoint is not connected (the engine is not started).</summary>
    public const int ENOTCONN = 107;

    /// <summary>Connection timed out.</summary>
    public const int ETIMEDOUT = 110;

    /// <summary>Connection refused.</summary>
    public const int ECONNREFUSED = 111;

    /// <summary>Operation already in progress (the engine is already started).</summary>
    public const int EALREADY = 114;

    /// <summary>The symbolic name of an errno value (either sign), e.g. "ENOENT", or "errno N".</summary>
    public static string GetName(int errno) => Math.Abs(errno) switch
    {
        EPERM => nameof(EPERM),
        ENOENT => nameof(ENOENT),
        ESRCH => nameof(ESRCH),
        EINTR => nameof(EINTR),
        EIO => nameof(EIO),
        EBADF => nameof(EBADF),
        EAGAIN => nameof(EAGAIN),
        ENOMEM => nameof(ENOMEM),
        EACCES => nameof(EACCES),
        EBUSY => nameof(EBUSY),
        EEXIST => nameof(EEXIST),
        ENOTDIR => nameof(ENOTDIR),
        EINVAL => nameof(EINVAL),
        ENFILE => nameof(ENFILE),
        EMFILE => nameof(EMFILE),
        ENOSPC => nameof(ENOSPC),
        EPIPE => nameof(EPIPE),
        ENAMETOOLONG => nameof(ENAMETOOLONG),
        EPROTO => nameof(EPROTO),
        EBADFD => nameof(EBADFD),
        EUSERS => nameof(EUSERS),
        EADDRINUSE => nameof(EADDRINUSE),
        ECONNRESET => nameof(ECONNRESET),
        ENOBUFS => nameof(ENOBUFS),
        ENOTCONN => nameof(ENOTCONN),
        ETIMEDOUT => nameof(ETIMEDOUT),
        ECONNREFUSED => nameof(ECONNREFUSED),
        EALREADY => nameof(EALREADY),
        int other => $"errno {other}",
    };

    /// <summary>The system's text for an errno value (either sign), as strerror gives it.</summary>
    public static string GetMessage(int errno) =>
        System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(Math.Abs(errno));
}
