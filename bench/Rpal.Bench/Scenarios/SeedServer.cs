using System.Globalization;
using Rpal.Bench.Server;
using Rpal.Rpc;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Rpal.Bench;

/// <summary>
/// <c>serve-seed SOCKET MESSAGES</c>: the server process of the seed's experiment. It serves the
/// floor's line beside SOCKET (<see cref="FloorLine"/>, the paths of <see cref="BenchEndpoints"/>
/// in SOCKET's directory), listens on the Unix socket SOCKET and says "ready"; one thread, pinned to <see cref="Affinity.ServerCore"/>,
/// accepts the client and serves the EPOLL run (epoll_wait + read, a clock reading, a 1-byte
/// ack), answers the distribution when the client sends the end message, then starts the Rpal
/// server (so that its receiver does not share the core during the EPOLL run) and writes one
/// byte to say so. The process exits when its stdin closes; on any failure it says why on stderr
/// and exits with 1, which the client sees as a closed socket or a failed call.
/// </summary>
internal static class SeedServer
{
    /// <summary>The byte written after the Rpal server started.</summary>
    public const byte RpalReady = (byte)'r';

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not [_, string path, string count] || !int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out int messages))
        {
            await Console.Error.WriteLineAsync("usage: serve-seed SOCKET MESSAGES");
            return 2;
        }

        int listener = SeedSocket.Listen(path);
        var floor = new BenchEndpoints(Path.GetDirectoryName(Path.GetFullPath(path))!);
        FloorLine.Start(floor.FloorSocket, floor.FloorLine, Affinity.ServerCore);
        var rpal = new TaskCompletionSource<RpalServer>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                rpal.SetResult(Serve(listener, messages));
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"serve-seed: {e.Message}");
                Environment.Exit(1);
            }
        })
        { Name = "seed-epoll", IsBackground = true };
        thread.Start();
        try
        {
            await ChildProcess.ServeUntilStdinClosesAsync();
        }
        finally
        {
            File.Delete(path);
            if (rpal.Task.IsCompletedSuccessfully)
            {
                await rpal.Task.Result.DisposeAsync();
            }
        }

        return 0;
    }

    private static unsafe RpalServer Serve(int listener, int messages)
    {
        _ = Affinity.PinCurrentThread(Affinity.ServerCore);
        int fd = SeedSocket.AcceptOne(listener);
        try
        {
            SeedStats stats = ServeEpoll(fd, new long[messages]);
            SeedSocket.WriteFull(fd, &stats, sizeof(SeedStats));

            // Started from this pinned thread, the receiver inherits the pin; the service pins
            // it again on the first call in case the engine starts it elsewhere.
            var server = new RpalServer();
            server.AddService<ISeedService>(new SeedService(messages));
            server.StartAsync().GetAwaiter().GetResult();
            byte ready = RpalReady;
            SeedSocket.WriteFull(fd, &ready, 1);
            return server;
        }
        finally
        {
            SeedSocket.Close(fd);
        }
    }

    private static unsafe SeedStats ServeEpoll(int fd, long[] samples)
    {
        int ep = SeedSocket.Check(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
        try
        {
            epoll_event ev = default;
            ev.events = EPOLLIN;
            ev.data.fd = fd;
            SeedSocket.Check(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), "epoll_ctl");
            long* message = stackalloc long[4];
            byte ack = (byte)'a';
            int counted = 0;
            long dropped = 0;
            while (true)
            {
                int n = epoll_wait(ep, &ev, 1, SeedSocket.TimeoutMs);
                if (n < 0 && errno == EINTR)
                {
                    continue;
                }

                if (n == 0)
                {
                    throw new TimeoutException($"EPOLL: no message for {SeedSocket.TimeoutMs} ms (after {counted} counted)");
                }

                SeedSocket.Check(n, "epoll_wait");
                if (!SeedSocket.ReadFull(fd, message, 32))
                {
                    throw new IOException("EPOLL: the client went away");
                }

                long now = SeedClock.Read();
                switch (message[1])
                {
                    case SeedStats.Counted when counted < samples.Length:
                        samples[counted++] = now - message[0];
                        break;
                    case SeedStats.Counted:
                        dropped++;
                        break;
                    case SeedStats.End:
                        return SeedStats.Of(samples.AsSpan(0, counted), dropped);
                }

                SeedSocket.WriteFull(fd, &ack, 1);
            }
        }
        finally
        {
            SeedSocket.Close(ep);
        }
    }

    /// <summary>The RPAL side: the call is the message; the handler reads the clock first.</summary>
    private sealed class SeedService(int messages) : ISeedService
    {
        private readonly long[] _samples = new long[messages];
        private int _counted;
        private long _dropped;
        private bool _pinned;

        public void Send(long stamp, long kind, long sequence, long spare)
        {
            long now = SeedClock.Read();
            if (kind == SeedStats.Counted)
            {
                if (_counted < _samples.Length)
                {
                    _samples[_counted++] = now - stamp;
                }
                else
                {
                    _dropped++;
                }
            }
            else if (!_pinned)
            {
                _pinned = true;
                _ = Affinity.PinCurrentThread(Affinity.ServerCore);
            }
        }

        public SeedStats Finish()
        {
            SeedStats stats = SeedStats.Of(_samples.AsSpan(0, _counted), _dropped);
            _counted = 0;
            _dropped = 0;
            return stats;
        }
    }
}
