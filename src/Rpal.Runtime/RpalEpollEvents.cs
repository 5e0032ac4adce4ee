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

    /// <summary>
    /// <c>EPOLLRPALOUT</c>: there is room again to send and to start a call, after an operation
    /// that does not wait (<see cref="RpalMessage.DontWait"/>) failed with -EAGAIN; reported once
    /// per such failure. An <see cref="RpalReceiver"/> watches it on every connection of its set
    /// and wakes the connection's <see cref="RpalConnection.SendAsync"/> callers itself.
    /// </summary>
    public const uint RpalOut = 1u << 23;

    /// <summary>The three RPAL bits a receiver's handler watches: RpalIn, RpalReply and RpalHangup.</summary>
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
