using System.Diagnostics;
using System.Globalization;
using Rpal.Bench.Server;
using Rpal.Rpc;

namespace Rpal.Bench;

/// <summary>
/// <c>seed</c>: the experiment of the RPAL cover letter (<c>examples/latency</c>), from C#. The
/// one-way latency of 32-byte messages from this process to a server thread in a child process,
/// in TSC cycles (server's clock on receipt minus the clock the client wrote into the message
/// just before the send), first over a Unix stream socket with epoll, then over Rpal through the
/// generated client of <see cref="ISeedService"/>. Ping-pong, as in C: the next message leaves
/// only after the previous one was acknowledged (a 1-byte ack; the call's empty reply).
/// </summary>
internal sealed class SeedScenario : IScenario
{
    private const int MessageBytes = 32;
    private static readonly TimeSpan s_minWarmup = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_runTimeout = TimeSpan.FromMinutes(10);

    public string Name => "seed";

    public string Description => "the RPAL cover letter's experiment: one-way latency of 32-byte messages in TSC cycles, EPOLL vs RPAL";

    public async Task<ScenarioReport> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        long requested = options.Messages ?? (options.Quick ? 20_000 : 1_000_000);
        int messages = (int)Math.Min(requested, 100_000_000);
        // examples/latency warms up with 1% of the messages, at least 1000; the JIT wants time
        // too (its tier-1 code arrives after a delay), so also at least half a second.
        int warmup = Math.Max(messages / 100, 2000);

        string directory = Directory.CreateTempSubdirectory("rpal-bench-seed-").FullName;
        string socketPath = Path.Combine(directory, "epoll.sock");
        try
        {
            using ChildProcess server = await ChildProcess.StartAsync(
                "serve-seed", [socketPath, messages.ToString(CultureInfo.InvariantCulture)], cancellationToken);
            double ghz = SeedClock.MeasureGHz();
            string unit = SeedClock.Unit;
            Console.WriteLine($"# {messages} messages of {MessageBytes} bytes after {warmup} warm-up (and at least {s_minWarmup.TotalMilliseconds:F0} ms), ping-pong; "
                + $"client on CPU {Affinity.ClientCore % Environment.ProcessorCount}, server on CPU {Affinity.ServerCore % Environment.ProcessorCount} (pid {server.Id})");
            Console.WriteLine(SeedClock.IsTsc
                ? $"# one-way latency = server TSC on receipt - client TSC before send; TSC about {ghz:F2} GHz; clock: {SeedClock.Name}{(SeedClock.IsInvariant() ? "" : "; WARNING: /proc/cpuinfo lacks constant_tsc/nonstop_tsc")}"
                : $"# one-way latency = server clock on receipt - client clock before send; clock: {SeedClock.Name}");

            var floorPaths = new BenchEndpoints(directory);
            SeedStats floor = await RunPinnedAsync(() => RunFloor(floorPaths, messages, warmup, cancellationToken), cancellationToken);
            Console.WriteLine("# FLOOR: one shared cache line, both sides spinning on it, one way = half its round trip: the limit of these two cores");
            Print("FLOOR", floor, unit);

            SeedStats epoll = await RunPinnedAsync(() => RunEpoll(socketPath, messages, warmup, cancellationToken), cancellationToken);
            Print("EPOLL", epoll, unit);

            // Connected from this (unpinned) thread, so that the channel's completion thread
            // does not inherit the client core's pin.
            await using RpalChannel channel = await RpalChannel.ConnectAsync("rpal.bench.seed", cancellationToken: cancellationToken);
            ISeedService service = channel.CreateClient<ISeedService>();
            SeedStats rpal = await RunPinnedAsync(() => RunRpal(service, messages, warmup, cancellationToken), cancellationToken);
            Print("RPAL", rpal, unit);

            double ratio = Average(epoll) / Average(rpal);
            double overFloor = rpal.P50 / (double)Math.Max(1, floor.P50);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RPAL/EPOLL average ratio: 1:{ratio:F1}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RPAL/FLOOR p50 ratio: {overFloor:F1}"));
            Console.WriteLine();

            var report = new ScenarioReport { Scenario = Name, Machine = MachineInfo.Current, Quick = options.Quick };
            report.Results.Add(Row("floor", floor));
            report.Results.Add(Row("epoll", epoll));
            report.Results.Add(Row("rpal", rpal));
            report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"RPAL/EPOLL average ratio 1:{ratio:F1} (the cover letter: 19,616 / 1,703 cycles = 1:11.5 on a Xeon 8336C, in C). "
                + $"Clock: {SeedClock.Name}{(SeedClock.IsTsc ? $", about {ghz:F2} GHz" : "; the *_cycles columns are nanoseconds")}. "
                + $"{messages} messages of {MessageBytes} bytes, ping-pong, one way, after {warmup} warm-up."));
            report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"RPAL/FLOOR p50 ratio {overFloor:F1}: the floor is one cache line the two pinned processes share, its one way half a round trip through it (the C tool's FLOOR row times one way with both clocks)."));
            if (epoll.Negative + rpal.Negative > 0)
            {
                report.Notes.Add($"{epoll.Negative + rpal.Negative} latencies were negative: the TSC is not synchronised across cores; the numbers are not trustworthy.");
            }

            return report;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static unsafe SeedStats RunEpoll(string socketPath, int messages, int warmup, CancellationToken cancellationToken)
    {
        int fd = SeedSocket.Connect(socketPath);
        try
        {
            long* message = stackalloc long[MessageBytes / sizeof(long)];
            byte ack;
            long warmEnd = Stopwatch.GetTimestamp() + (long)(s_minWarmup.TotalSeconds * Stopwatch.Frequency);
            for (long i = 0, total = 0; ; i++)
            {
                bool warming = i < warmup || Stopwatch.GetTimestamp() < warmEnd;
                if (!warming && total == messages)
                {
                    break;
                }

                total += warming ? 0 : 1;
                if ((i & 4095) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                message[0] = SeedClock.Read();
                message[1] = warming ? SeedStats.Warmup : SeedStats.Counted;
                message[2] = i;
                SeedSocket.WriteFull(fd, message, MessageBytes);
                if (!SeedSocket.ReadFull(fd, &ack, 1))
                {
                    throw new IOException("EPOLL: the server went away (its stderr says why)");
                }
            }

            message[1] = SeedStats.End;
            SeedSocket.WriteFull(fd, message, MessageBytes);
            SeedStats stats;
            byte ready;
            if (!SeedSocket.ReadFull(fd, &stats, sizeof(SeedStats)) || !SeedSocket.ReadFull(fd, &ready, 1) || ready != SeedServer.RpalReady)
            {
                throw new IOException("EPOLL: the server went away before it sent the results and started Rpal (its stderr says why)");
            }

            return stats;
        }
        finally
        {
            SeedSocket.Close(fd);
        }
    }

    /// <summary>The floor: round trips through one shared line, each one way counted as half of one.</summary>
    private static SeedStats RunFloor(BenchEndpoints paths, int messages, int warmup, CancellationToken cancellationToken)
    {
        using FloorLine line = FloorLine.Open(paths.FloorSocket, paths.FloorLine);
        long warmEnd = Stopwatch.GetTimestamp() + (long)(s_minWarmup.TotalSeconds * Stopwatch.Frequency);
        for (long i = 0; i < warmup || Stopwatch.GetTimestamp() < warmEnd; i++)
        {
            line.RoundTrip(i);
        }

        long[] samples = new long[messages];
        for (int i = 0; i < messages; i++)
        {
            if ((i & 4095) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            long t0 = SeedClock.Read();
            line.RoundTrip(i);
            samples[i] = (SeedClock.Read() - t0) / 2;
        }

        return SeedStats.Of(samples, 0);
    }

    private static SeedStats RunRpal(ISeedService service, int messages, int warmup, CancellationToken cancellationToken)
    {
        long warmEnd = Stopwatch.GetTimestamp() + (long)(s_minWarmup.TotalSeconds * Stopwatch.Frequency);
        for (long i = 0; i < warmup || Stopwatch.GetTimestamp() < warmEnd; i++)
        {
            if ((i & 4095) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            service.Send(SeedClock.Read(), SeedStats.Warmup, i, 0);
        }

        for (long i = 0; i < messages; i++)
        {
            if ((i & 4095) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            service.Send(SeedClock.Read(), SeedStats.Counted, i, 0);
        }

        return service.Finish();
    }

    /// <summary>Runs <paramref name="run"/> on a new thread pinned to the client core, with a time-out.</summary>
    private static async Task<SeedStats> RunPinnedAsync(Func<SeedStats> run, CancellationToken cancellationToken)
    {
        var result = new TaskCompletionSource<SeedStats>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                if (!Affinity.PinCurrentThread(Affinity.ClientCore))
                {
                    Console.WriteLine("# the client thread could not be pinned");
                }

                result.SetResult(run());
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        })
        { Name = "seed-client", IsBackground = true };
        thread.Start();
        return await result.Task.WaitAsync(s_runTimeout, cancellationToken);
    }

    private static double Average(SeedStats s) => s.Count == 0 ? 0 : (double)s.Total / s.Count;

    // The seed's lines, exactly as examples/latency/latency_client.c prints them.
    private static void Print(string label, SeedStats s, string unit)
    {
        string total = SeedClock.IsTsc ? "Total TSC cycles" : "Total ns";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label}: Message length: {MessageBytes} bytes, {total}: {s.Total}, Message count: {s.Count}, Average latency: {(s.Count == 0 ? 0 : s.Total / s.Count)} {unit}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label}: p50: {s.P50}, p90: {s.P90}, p99: {s.P99}, p99.9: {s.P999}, max: {s.Max} {unit}"));
        if (s.Dropped > 0)
        {
            Console.WriteLine($"# {label}: the server dropped {s.Dropped} samples (more counted messages than it was started for)");
        }
    }

    private static Dictionary<string, object> Row(string system, SeedStats s) => new()
    {
        ["system"] = system,
        ["average_cycles"] = s.Count == 0 ? 0 : s.Total / s.Count,
        ["p50_cycles"] = s.P50,
        ["p99_cycles"] = s.P99,
        ["messages"] = s.Count,
    };
}
