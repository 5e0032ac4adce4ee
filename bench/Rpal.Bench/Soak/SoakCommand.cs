using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Rpal.Bench.Contracts;
using Rpal.Rpc;
using Rpal.Runtime;

namespace Rpal.Bench.Soak;

/// <summary>
/// <c>soak [--clients N] [--calls N] [--in-flight N] [--spin-us N] [--warmup-percent N]
/// [--stall-seconds N] [--quick] [--json PATH] [--markdown PATH]</c>:
/// one server process (<see cref="SoakServer"/>) and N client processes (<see cref="SoakClient"/>)
/// make the calls between them, every call checked: none may be lost (made but not seen by the
/// server, or not answered), seen twice by the server, or answered with another call's reply.
/// The resident memory of every process is sampled when the warm-up (the first 20% of the calls
/// by default) ends and until the last call; the server's may not grow by 5% or more after the warm-up. Not in
/// <c>all</c>: the full run makes 10,000,000 calls. Exit codes: 0 passed, 1 failed, 2 bad command
/// line. <c>--quick</c> (CI): 8 x 2,500 calls; the memory bound is reported, not enforced (nor on
/// any run under <see cref="EnforceMinCalls"/> calls, too short for memory to settle).
/// </summary>
internal static class SoakCommand
{
    /// <summary>The name the soak server registers.</summary>
    public const string ServiceName = "rpal.bench.soak";

    /// <summary>The bound on the server's resident memory growth after the warm-up, in percent.</summary>
    public const double GrowthBoundPercent = 5;

    private const long EnforceMinCalls = 1_000_000;

    // On 2 cores the eight clients share one core: a client that spins long while the server
    // answers the others takes the core from the clients whose replies are there (see
    // docs/threading.md). A short spin, then park.
    private const double DefaultSpinMicroseconds = 5;

    public static string Description => "N client processes x M checked calls against one server: 0 lost, duplicated or misrouted; server memory growth under 5% after warm-up (not in 'all')";

    public static async Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        Settings settings;
        try
        {
            settings = Settings.From(options);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"rpal-bench: {e.Message}");
            return 2;
        }

        Console.Error.WriteLine($"rpal-bench: soak{(options.Quick ? " (quick)" : "")} on {MachineInfo.Current}: "
            + FormattableString.Invariant($"{settings.Clients} clients, {settings.Calls:N0} calls, {settings.InFlight} in flight per client, spin budget {settings.SpinMicroseconds} us"));
        try
        {
            (ScenarioReport report, bool passed) = await RunAsync(settings, options.Quick, cancellationToken);
            await ReportWriter.WriteAsync(report, options);
            return passed ? 0 : 1;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine($"rpal-bench: soak failed: {e}");
            return 1;
        }
    }

    private static async Task<(ScenarioReport Report, bool Passed)> RunAsync(Settings settings, bool quick, CancellationToken cancellationToken)
    {
        long[] perClient = [.. Enumerable.Range(0, settings.Clients).Select(i => settings.Calls / settings.Clients + (i < settings.Calls % settings.Clients ? 1 : 0))];
        long spinNs = (long)(settings.SpinMicroseconds * 1000);
        int[] clientCores = Affinity.ClientCores();
        string Invariant(long n) => n.ToString(CultureInfo.InvariantCulture);

        using ChildProcess server = await ChildProcess.StartAsync("serve-soak", [Invariant(settings.Clients), Invariant(perClient.Max()), Invariant(spinNs)], cancellationToken);
        Task<ChildProcess>[] starting = [.. Enumerable.Range(0, settings.Clients).Select(i => ChildProcess.StartAsync("soak-client",
            [Invariant(i), Invariant(perClient[i]), Invariant(settings.InFlight), Invariant(spinNs), Invariant(clientCores.Length == 0 ? -1 : clientCores[i % clientCores.Length])],
            cancellationToken))];
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            foreach (Task<ChildProcess> t in starting.Where(t => t.IsCompletedSuccessfully))
            {
                t.Result.Dispose();
            }

            throw;
        }

        ChildProcess[] clients = [.. starting.Select(t => t.Result)];
        try
        {
            RpalEngine.Start(new RpalEngineOptions { SpinBudget = TimeSpan.FromMicroseconds(settings.SpinMicroseconds) });
            await using RpalChannel channel = await RpalChannel.ConnectAsync(ServiceName,
                new RpalChannelOptions
                {
                    DefaultTimeout = TimeSpan.FromSeconds(30), // a server that hangs fails the run rather than hanging it
                },
                cancellationToken);
            ISoakService monitor = channel.CreateClient<ISoakService>();
            var serverMemory = new ResidentSamples(server.Id);
            ResidentSamples[] clientMemory = [.. clients.Select(c => new ResidentSamples(c.Id))];

            Task<SoakClientResult?>[] results = [.. clients.Select(c => ReadResultAsync(c, cancellationToken))];
            Task allDone = Task.WhenAll(results);
            foreach (ChildProcess c in clients)
            {
                await c.SendLineAsync("go");
            }

            long start = Stopwatch.GetTimestamp();
            long warmupCalls = settings.Calls * settings.WarmupPercent / 100;
            TimeSpan poll = quick || settings.Calls < EnforceMinCalls ? TimeSpan.FromMilliseconds(20) : TimeSpan.FromMilliseconds(500);
            TimeSpan printEvery = TimeSpan.FromSeconds(5), nextPrint = printEvery;
            long lastProgress = -1, lastPrinted = 0;
            TimeSpan lastChange = TimeSpan.Zero, lastPrintAt = TimeSpan.Zero;
            bool stalled = false;
            while (!allDone.IsCompleted)
            {
                await Task.WhenAny(allDone, Task.Delay(poll, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
                TimeSpan now = Stopwatch.GetElapsedTime(start);
                long progress = monitor.Progress();
                if (!serverMemory.IsWarm && progress >= warmupCalls && !allDone.IsCompleted)
                {
                    serverMemory.SampleWarm();
                    foreach (ResidentSamples m in clientMemory)
                    {
                        m.SampleWarm();
                    }
                }
                else
                {
                    serverMemory.Sample();
                }

                if (progress != lastProgress)
                {
                    lastProgress = progress;
                    lastChange = now;
                }
                else if (now - lastChange > settings.StallTimeout && !allDone.IsCompleted)
                {
                    Console.Error.WriteLine(FormattableString.Invariant($"rpal-bench: soak: no call for {settings.StallTimeout.TotalSeconds:F0} s at {progress:N0} calls: stalled"));
                    stalled = true;
                    break;
                }

                if (now >= nextPrint)
                {
                    double rate = (progress - lastPrinted) / (now - lastPrintAt).TotalSeconds;
                    Console.Error.WriteLine(FormattableString.Invariant(
                        $"rpal-bench: soak: {progress:N0} of {settings.Calls:N0} calls ({100.0 * progress / settings.Calls:F0}%) in {now.TotalSeconds:F0} s, {rate:N0} calls/s, server RSS {serverMemory.Last / 1048576.0:F1} MiB"));
                    (lastPrinted, lastPrintAt) = (progress, now);
                    nextPrint += printEvery;
                }
            }

            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            // The clients are done and still alive (they wait for their stdin to close): the last sample of each.
            serverMemory.Sample();
            foreach (ResidentSamples m in clientMemory)
            {
                m.Sample();
            }

            SoakClientResult?[] done = [.. results.Select(r => r.IsCompletedSuccessfully ? r.Result : null)];
            SoakCounts[] seen = [.. Enumerable.Range(0, settings.Clients).Select(i => monitor.Counts(i, done[i]?.Sent ?? perClient[i]))];
            long unknownClient = monitor.Counts(-1, 0).Stray;
            return Report(settings, quick, perClient, done, seen, unknownClient, stalled, elapsed, serverMemory, clientMemory);
        }
        finally
        {
            foreach (ChildProcess c in clients)
            {
                c.Dispose();
            }
        }
    }

    /// <summary>The client's "done" line, parsed; null if it exited without one.</summary>
    private static async Task<SoakClientResult?> ReadResultAsync(ChildProcess client, CancellationToken cancellationToken)
    {
        while (await client.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("done ", StringComparison.Ordinal))
            {
                return JsonSerializer.Deserialize<SoakClientResult>(line.AsSpan(5));
            }
        }

        return null;
    }

    private static (ScenarioReport, bool) Report(Settings settings, bool quick, long[] perClient, SoakClientResult?[] done, SoakCounts[] seen,
        long unknownClient, bool stalled, TimeSpan elapsed, ResidentSamples serverMemory, ResidentSamples[] clientMemory)
    {
        var report = new ScenarioReport { Scenario = "soak", Machine = MachineInfo.Current, Quick = quick };
        long sent = 0, completed = 0, failed = 0, misrouted = 0, lost = 0, duplicated = 0, stray = unknownClient, corrupt = 0;
        long blocking = 0, awaited = 0, inline = 0, small = 0, large = 0;
        int unfinished = 0;
        var rows = new List<Dictionary<string, object>>();
        for (int i = 0; i < perClient.Length; i++)
        {
            SoakClientResult r = done[i] ?? new SoakClientResult { Sent = perClient[i] };
            unfinished += done[i] is null ? 1 : 0;
            // A call is lost if the server never saw it or its client never got a reply: the larger
            // of the two counts is how many calls at least were lost.
            long clientLost = Math.Max(r.Sent - seen[i].SeenOnce, r.Sent - r.Completed);
            (sent, completed, failed, misrouted, lost) = (sent + r.Sent, completed + r.Completed, failed + r.Failed, misrouted + r.Misrouted, lost + clientLost);
            (duplicated, stray, corrupt) = (duplicated + seen[i].Duplicated, stray + seen[i].Stray, corrupt + seen[i].Corrupt);
            (blocking, awaited, inline, small, large) = (blocking + r.Blocking, awaited + r.Awaited, inline + r.Inline, small + r.Small, large + r.Large);
            rows.Add(new Dictionary<string, object>
            {
                ["system"] = $"client-{i}",
                ["calls"] = perClient[i],
                ["completed"] = r.Completed,
                ["lost"] = clientLost,
                ["duplicated"] = seen[i].Duplicated,
                ["misrouted"] = r.Misrouted,
                ["failed"] = r.Failed,
            });
            AddIfMeasured(rows[^1], "rss_growth_percent", clientMemory[i].GrowthPercent);
            if (r.FirstError is { } error)
            {
                report.Notes.Add($"client {i}: {error}");
            }
        }

        double maxClientGrowth = clientMemory.Select(m => m.GrowthPercent).Where(g => !double.IsNaN(g)).DefaultIfEmpty(double.NaN).Max();
        var total = new Dictionary<string, object>
        {
            ["system"] = "rpal",
            ["clients"] = settings.Clients,
            ["calls"] = settings.Calls,
            ["completed"] = completed,
            ["lost"] = lost,
            ["duplicated"] = duplicated,
            ["misrouted"] = misrouted,
            ["failed"] = failed,
            ["stray"] = stray,
            ["corrupt"] = corrupt,
            ["unfinished_clients"] = unfinished,
            ["seconds"] = Math.Round(elapsed.TotalSeconds, 2),
            ["calls_per_s"] = Math.Round(completed / elapsed.TotalSeconds),
        };
        if (serverMemory.IsWarm)
        {
            total["server_rss_warm_mib"] = Math.Round(serverMemory.Warm / 1048576.0, 1);
            total["server_rss_end_mib"] = Math.Round(serverMemory.Last / 1048576.0, 1);
        }

        AddIfMeasured(total, "server_rss_growth_percent", serverMemory.GrowthPercent);
        AddIfMeasured(total, "server_rss_max_growth_percent", serverMemory.MaxGrowthPercent);
        AddIfMeasured(total, "client_rss_max_growth_percent", maxClientGrowth);
        report.Results.Add(total);
        report.Results.AddRange(rows);

        bool correct = lost == 0 && duplicated == 0 && misrouted == 0 && failed == 0 && stray == 0 && corrupt == 0 && unfinished == 0
            && completed == settings.Calls && !stalled;
        bool enforce = !quick && settings.Calls >= EnforceMinCalls;
        bool memoryMet = serverMemory.IsWarm && serverMemory.GrowthPercent < GrowthBoundPercent;
        report.Notes.Insert(0, FormattableString.Invariant(
            $"{settings.Calls:N0} calls from {settings.Clients} client processes in {elapsed.TotalSeconds:F1} s ({completed / elapsed.TotalSeconds:N0} calls/s): {lost} lost, {duplicated} duplicated, {misrouted} misrouted, {failed} failed{(stalled ? ", STALLED" : "")}: {(correct ? "passed" : "FAILED")}."));
        report.Notes.Insert(1, FormattableString.Invariant(
            $"Calls: {blocking:N0} blocking, {awaited:N0} awaited ({settings.InFlight} in flight per client: {(settings.InFlight + 1) / 2} blocking thread(s) and {settings.InFlight / 2} awaiting loop(s), each making every {settings.InFlight}th call); {inline:N0} inline (Ping), {small:N0} with 0 to {SoakPayload.SmallMax} bytes, {large:N0} with {SoakPayload.LargeMin / 1024} to {SoakPayload.LargeMax / 1024} KiB (in the sender's arena); one awaited call in 16 suspends in the server's handler. Spin budget {settings.SpinMicroseconds} us; server pinned to core {Affinity.ServerCore}, clients to {(Affinity.ClientCores() is { Length: > 0 } cores ? "core(s) " + string.Join(", ", cores) : "no core")}."));
        report.Notes.Insert(2, serverMemory.IsWarm
            ? FormattableString.Invariant(
                $"Server resident memory (VmRSS): {serverMemory.Warm / 1048576.0:F1} MiB after the warm-up (the first {settings.WarmupPercent}% of the calls), {serverMemory.Last / 1048576.0:F1} MiB at the end: {serverMemory.GrowthPercent:+0.00;-0.00}% (largest sample {serverMemory.MaxGrowthPercent:+0.00;-0.00}%), bound {GrowthBoundPercent}%: ")
              + (enforce ? memoryMet ? "met." : "MISSED." : FormattableString.Invariant($"not enforced, the run is too short for memory to settle (enforced from {EnforceMinCalls:N0} calls without --quick)."))
              + FormattableString.Invariant($" Clients' largest growth: {maxClientGrowth:+0.00;-0.00}%.")
            : "Server resident memory: the run ended before its warm-up sample; not measured.");
        return (report, correct && (!enforce || memoryMet));
    }

    /// <summary>Adds a percentage rounded to 0.01, or nothing when it was not measured (JSON has no NaN).</summary>
    private static void AddIfMeasured(Dictionary<string, object> row, string name, double percent)
    {
        if (!double.IsNaN(percent))
        {
            row[name] = Math.Round(percent, 2);
        }
    }

    /// <summary>The soak's command line.</summary>
    private sealed record Settings(int Clients, long Calls, int InFlight, double SpinMicroseconds, long WarmupPercent, TimeSpan StallTimeout)
    {
        public static Settings From(BenchOptions options)
        {
            int clients = (int)Whole(options, "clients", 8, max: 1024);
            long calls = options.Extra.ContainsKey("calls") ? Whole(options, "calls", 0, long.MaxValue / 2) : options.Messages ?? (options.Quick ? 8 * 2_500 : 10_000_000);
            int inFlight = (int)Whole(options, "in-flight", 4, max: 1024);
            double spin = options.Extra.TryGetValue("spin-us", out string? s)
                ? double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double us) && us >= 0 ? us : throw new FormatException("--spin-us takes a number of microseconds, 0 or more")
                : DefaultSpinMicroseconds;
            long warmup = Whole(options, "warmup-percent", 20, max: 99);
            long stall = Whole(options, "stall-seconds", options.Quick ? 10 : 30, max: 3600);
            if (calls < clients)
            {
                throw new FormatException("--calls must be at least --clients");
            }

            return new Settings(clients, calls, inFlight, spin, warmup, TimeSpan.FromSeconds(stall));
        }

        private static long Whole(BenchOptions options, string name, long fallback, long max) =>
            !options.Extra.TryGetValue(name, out string? text) ? fallback
            : long.TryParse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out long n) && n > 0 && n <= max ? n
            : throw new FormatException($"--{name} takes a whole number from 1 to {max}");
    }
}
