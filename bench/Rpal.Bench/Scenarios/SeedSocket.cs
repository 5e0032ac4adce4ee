using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Rpal.Bench;

/// <summary>
/// The EPOLL side of the seed's experiment: a raw Unix stream socket, read and written with
/// read()/write() through Tmds.LibC, as <c>examples/latency</c> does in C. Every failure throws
/// <see cref="IOException"/> with errno's text; EINTR (the runtime's own signals) is retried.
/// </summary>
internal static unsafe class SeedSocket
{
    /// <summary>How long any one wait on the socket may take before the run is declared stuck.</summary>
    public const int TimeoutMs = 10_000;

    /// <summary>A listening socket bound to <paramref name="path"/>.</summary>
    public static int Listen(string path)
    {
        int fd = Check(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
        sockaddr_un sa = Address(path);
        if (bind(fd, (sockaddr*)&sa, (socklen_t)sizeof(sockaddr_un)) < 0 || listen(fd, 1) < 0)
        {
            int e = errno;
            _ = close(fd);
            throw Error(e, $"bind/listen {path}");
        }

        return fd;
    }

    /// <summary>Accepts one client within <see cref="TimeoutMs"/>, then closes <paramref name="listener"/>.</summary>
    public static int AcceptOne(int listener)
    {
        pollfd p = new() { fd = listener, events = POLLIN };
        int n;
        while ((n = poll(&p, 1, TimeoutMs)) < 0 && errno == EINTR)
        {
        }

        if (n == 0)
        {
            throw new TimeoutException($"no client connected within {TimeoutMs} ms");
        }

        Check(n, "poll");
        int fd = Check(accept4(listener, null, null, SOCK_CLOEXEC), "accept4");
        _ = close(listener);
        return fd;
    }

    /// <summary>A socket connected to <paramref name="path"/>, whose reads time out after <see cref="TimeoutMs"/>.</summary>
    public static int Connect(string path)
    {
        int fd = Check(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
        sockaddr_un sa = Address(path);
        Timeval tv = new() { Seconds = TimeoutMs / 1000 };
        if (connect(fd, (sockaddr*)&sa, (socklen_t)sizeof(sockaddr_un)) < 0
            || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, (socklen_t)sizeof(Timeval)) < 0)
        {
            int e = errno;
            _ = close(fd);
            throw Error(e, $"connect {path}");
        }

        return fd;
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes; false if the peer closed first.</summary>
    public static bool ReadFull(int fd, void* buffer, int length)
    {
        for (int done = 0; done < length;)
        {
            long n = read(fd, (byte*)buffer + done, (size_t)(uint)(length - done));
            if (n > 0)
            {
                done += (int)n;
            }
            else if (n == 0)
            {
                return false;
            }
            else if (errno is int e && e != EINTR)
            {
                throw Error(e, e == EAGAIN ? $"read: nothing for {TimeoutMs} ms" : "read");
            }
        }

        return true;
    }

    /// <summary>Writes exactly <paramref name="length"/> bytes.</summary>
    public static void WriteFull(int fd, void* buffer, int length)
    {
        for (int done = 0; done < length;)
        {
            long n = write(fd, (byte*)buffer + done, (size_t)(uint)(length - done));
            if (n >= 0)
            {
                done += (int)n;
            }
            else if (errno is int e && e != EINTR)
            {
                throw Error(e, "write");
            }
        }
    }

    /// <summary>Closes <paramref name="fd"/>, ignoring errors (it is done with).</summary>
    public static void Close(int fd) => _ = close(fd);

    /// <summary>Throws for a negative <paramref name="rc"/>, with errno; returns it otherwise.</summary>
    public static int Check(int rc, string what) => rc >= 0 ? rc : throw Error(errno, what);

    private static IOException Error(int e, string what) => new($"{what}: {Marshal.GetPInvokeErrorMessage(e)} (errno {e})");

    // struct timeval of x86-64 and arm64 Linux (Tmds.LibC has none)
    [StructLayout(LayoutKind.Sequential)]
    private struct Timeval
    {
        public long Seconds;
        public long Microseconds;
    }

    private static sockaddr_un Address(string path)
    {
        sockaddr_un sa = default;
        sa.sun_family = AF_UNIX;
        byte[] bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= 108)
        {
            throw new ArgumentException($"socket path too long: {path}", nameof(path));
        }

        bytes.CopyTo(new Span<byte>(sa.sun_path, 108));
        return sa;
    }
}
