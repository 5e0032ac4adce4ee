using System.Net.Sockets;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Rpal.Bench.Server;

/// <summary>
/// The Unix-socket baseline, written the way a tuned C server would be: one thread, epoll,
/// non-blocking stream sockets, each read echoed back as is. The client side is a blocking
/// read/write pair on its socket (<see cref="RoundTrip"/>).
/// </summary>
internal static unsafe class EpollEcho
{
    /// <summary>Binds and listens on <paramref name="path"/>, then serves on a background thread until the process exits.</summary>
    public static void Start(string path)
    {
        File.Delete(path);
        int listenFd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        Check(listenFd, "socket");
        sockaddr_un address = default;
        address.sun_family = (ushort)AF_UNIX;
        byte[] pathBytes = System.Text.Encoding.UTF8.GetBytes(path);
        if (pathBytes.Length >= 108)
        {
            throw new ArgumentException($"socket path too long: {path}", nameof(path));
        }

        for (int i = 0; i < pathBytes.Length; i++)
        {
            address.sun_path[i] = pathBytes[i];
        }

        Check(bind(listenFd, (sockaddr*)&address, (uint)sizeof(sockaddr_un)), "bind");
        Check(listen(listenFd, 16), "listen");
        int epollFd = epoll_create1(EPOLL_CLOEXEC);
        Check(epollFd, "epoll_create1");
        Add(epollFd, listenFd);
        var thread = new Thread(() => Serve(epollFd, listenFd)) { IsBackground = true, Name = "bench-epoll-echo" };
        thread.Start();
    }

    /// <summary>Connects a blocking client socket to the echo server at <paramref name="path"/>.</summary>
    public static Socket Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(path));
        return s;
    }

    /// <summary>One 8-byte round trip on a blocking socket's descriptor (client side), through libc directly.</summary>
    public static long RoundTrip(int fd, long value)
    {
        long buffer = value;
        if (write(fd, &buffer, 8) != 8)
        {
            throw new IOException($"write to the echo server failed: errno {errno}");
        }

        int got = 0;
        while (got < 8)
        {
            long n = read(fd, (byte*)&buffer + got, (size_t)(8 - got));
            if (n <= 0)
            {
                throw new IOException(n == 0 ? "the echo server went away" : $"read from the echo server failed: errno {errno}");
            }

            got += (int)n;
        }

        return buffer;
    }

    private static void Serve(int epollFd, int listenFd)
    {
        const int MaxEvents = 16;
        epoll_event* events = stackalloc epoll_event[MaxEvents];
        byte* buffer = stackalloc byte[64 * 1024];
        while (true)
        {
            int n = epoll_wait(epollFd, events, MaxEvents, -1);
            if (n < 0)
            {
                if (errno == EINTR)
                {
                    continue;
                }

                return;
            }

            for (int i = 0; i < n; i++)
            {
                int fd = events[i].data.fd;
                if (fd == listenFd)
                {
                    int c;
                    while ((c = accept4(listenFd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
                    {
                        Add(epollFd, c);
                    }

                    continue;
                }

                Echo(epollFd, fd, buffer);
            }
        }
    }

    private static void Echo(int epollFd, int fd, byte* buffer)
    {
        while (true)
        {
            long got = read(fd, buffer, 64 * 1024);
            if (got < 0 && errno == EAGAIN)
            {
                return;
            }

            if (got <= 0)
            {
                // the client left: a failure to unregister or close leaks one fd in a bench server
                _ = epoll_ctl(epollFd, EPOLL_CTL_DEL, fd, null);
                _ = close(fd);
                return;
            }

            long sent = 0;
            while (sent < got)
            {
                long w = write(fd, buffer + sent, (size_t)(int)(got - sent));
                if (w < 0 && errno != EAGAIN && errno != EINTR)
                {
                    break; // the client left; its read side reports it
                }

                sent += Math.Max(w, 0);
            }
        }
    }

    private static void Add(int epollFd, int fd)
    {
        epoll_event e = default;
        e.events = EPOLLIN;
        e.data.fd = fd;
        Check(epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &e), "epoll_ctl");
    }

    private static void Check(int rc, string what)
    {
        if (rc < 0)
        {
            throw new IOException($"{what} failed: errno {errno}");
        }
    }
}
