namespace Rpal.Runtime.Interop;

/// <summary>Owns an eventfd; releasing it closes the fd.</summary>
internal sealed class EventFdHandle(int fd) : RpalFdHandle(fd)
{
    protected override bool ReleaseHandle() => LibC.Close((int)handle) == 0;
}
