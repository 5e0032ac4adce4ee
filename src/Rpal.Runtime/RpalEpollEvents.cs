namespace Rpal.Runtime;

/// <summary>Event bits of <see cref="RpalEpollEvent.Events"/>: the RPAL bits of rpal.h and the epoll bits they travel with.</summary>
public static class RpalEpollEvents
{
    /// <summary><c>EPOLLRPALIN</c>: requests or one-way messages wait for <see cref="RpalConnection.Receive"/>.</summary>
    public const uint RpalIn = 1u << 20;

    /// <summary><c>EPOLLRPALREPLY</c>: completions of submitted calls wait for <see cref="RpalConnection.Complete"/>.</summary>
    public const uint RpalReply = 1u << 21;

    /// <summary><c>EPOLLRPALHUP</c>: the connection failed (the peer died or closed it); release it.</summary>
    public const uint RpalHangup = 1u << 22;

    /// <summary>All three RPAL bits: what a connection reports when added with events 0.</summary>
    public const uint RpalAll = RpalIn | RpalReply | RpalHangup;

    /// <summary><c>EPOLLIN</c>: an ordinary fd is readable (a listener: a client is waiting).</summary>
    public const uint In = 0x001;

    /// <summary><c>EPOLLOUT</c>: an ordinary fd is writable.</summary>
    public const uint Out = 0x004;

    /// <summary><c>EPOLLERR</c>: an error condition on an ordinary fd.</summary>
    public const uint Error = 0x008;

    /// <summary><c>EPOLLHUP</c>: hang-up on an ordinary fd.</summary>
    public const uint Hangup = 0x010;
}
