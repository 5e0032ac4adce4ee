namespace Rpal.Runtime.Interop;

/// <summary>Owns an <c>rpal_epoll_create</c> instance; releasing it calls <c>rpal_epoll_close</c>.</summary>
internal sealed class RpalEpollHandle(int fd) : RpalFdHandle(fd)
{
    protected override bool ReleaseHandle() => NativeMethods.rpal_epoll_close((int)handle) == 0;
}
