using System.Globalization;
using Rpal.Bench.Server;
using Rpal.Runtime;

namespace Rpal.Bench;

/// <summary>
/// paced: the 8-byte echo of rtt (the same systems, <see cref="EchoClients"/>, against the same
/// server), made not back to back but a gap apart, as a service called now and then is: for each
/// system and gap, the round trip's p50 and p99, and the CPU time a call costs in the client and
/// in the server process, where the time they spin or park while waiting shows. uds-epoll is the
/// baseline: each row has its p50 and CPU per call over uds-epoll's at the same gap. The rows
/// have the columns of <c>rpal-latency --gap-us</c> (examples/latency), the same measurement of
/// the C engine alone.
/// </summary>
internal sealed class PacedScenario : IScenario
{
    private const string Baseline = "uds-epoll";
    private const long DefaultCalls = 2_000;
    private const long QuickCalls = 200;
    private const int DefaultRounds = 4;
    private const int MaxRounds = 100;
    private const long MaxGapMicroseconds = 100_000;
    private const long MinCappedCalls = 100;
    private static readonly long[] s_defaultGapsMicroseconds = [0, 10, 50, 200, 1000, 10_000];
    private static readonly string[] s_headlineSystems = ["rpal", "rpal-engine"]; // a note each, their ratios to the baseline

    public string Name => "paced";

    public string Description => "echo calls a gap apart (--gaps 0,10,50,200,1000,10000 us, --calls 2000, --rounds 4, --systems LIST): RTT p50/p99 and CPU per call of client and server, against uds-epoll";

    public async Task<ScenarioReport> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        long[] gaps = Gaps(options);
        long calls = Calls(options);
        int rounds = Rounds(options);
        // A row's sleeps are cut near this (the calls of a long gap): 10 s, as rpal-latency's.
        long maxSleepNs = options.Quick ? 1_000_000_000 : 10_000_000_000;
        TimeSpan jitWarmup = TimeSpan.FromSeconds(options.Quick ? 0.1 : 1);
        TimeSpan idleWindow = TimeSpan.FromSeconds(options.Quick ? 0.2 : 2);
        string loadBefore = LoadAverage();

        using BenchServerProcess server = await BenchServerProcess.StartAsync(cancellationToken);
        await using EchoClients clients = await EchoClients.ConnectAsync(server.Endpoints, cancellationToken);
        // the floor's server spins through every gap: a whole core per call, nothing to learn
        IReadOnlyList<EchoSystem> systems = [.. clients.Chosen(options).Where(s => s.Session is null)];
        long ServerCpuNs() => server.CpuNsAsync(cancellationToken).GetAwaiter().GetResult();
        Func<long, ValueTask<long>> Call(EchoSystem system) => system.Awaited ?? (v => new ValueTask<long>(system.Blocking!(v)));

        var report = new ScenarioReport { Scenario = Name, Machine = MachineInfo.Current, Quick = options.Quick };
        foreach (EchoSystem system in systems)
        {
            Console.Error.WriteLine($"rpal-bench: paced {system.Name}: {jitWarmup.TotalSeconds:F1} s back-to-back warm-up");
            await RunAsCallerAsync(system, () => PacedRecorder.WarmUpAsync(Call(system), jitWarmup, cancellationToken));
        }

        // Rounds: every gap of every system in turn, the systems in a new order each round, so
        // that what the machine does meanwhile (these VMs change speed within minutes) falls on
        // all of them alike; a row pools its rounds.
        var pooled = new Dictionary<(string System, long Gap), PacedGap>();
        var cut = new SortedSet<string>(StringComparer.Ordinal);
        for (int round = 0; round < rounds; round++)
        {
            Console.Error.WriteLine($"rpal-bench: paced, round {round + 1} of {rounds}: gaps {string.Join(',', gaps)} us");
            foreach (long gapUs in gaps)
            {
                long counted = PacedRecorder.CappedCalls(calls, gapUs * 1000, maxSleepNs, MinCappedCalls);
                if (counted < calls)
                {
                    cut.Add(string.Create(CultureInfo.InvariantCulture, $"{gapUs} us: {counted:N0}"));
                }

                long share = (counted + rounds - 1) / rounds;
                for (int k = 0; k < systems.Count; k++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    EchoSystem system = systems[(k + round) % systems.Count];
                    PacedGap g = await RunAsCallerAsync(system, () => PacedRecorder.MeasureAsync(
                        Call(system), gapUs * 1000, PacedRecorder.Warmup(share), share, ServerCpuNs, system.Stats, cancellationToken));
                    pooled[(system.Name, gapUs)] = pooled.TryGetValue((system.Name, gapUs), out PacedGap? before) ? before.Add(g) : g;
                }
            }
        }

        var waitNotes = new List<string>();
        foreach (EchoSystem system in systems)
        {
            var parked = new List<string>();
            foreach (long gapUs in gaps)
            {
                PacedGap g = pooled[(system.Name, gapUs)];
                report.Results.Add(Row(system.Name, gapUs, g));
                if (g.Engine is { } w)
                {
                    ulong waits = w.Spins + w.Parks;
                    parked.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{gapUs}: {Percent(w.Parks, waits)} parked, {Percent(w.Wakeups, (ulong)g.Calls)} woke the server"));
                }
            }

            if (parked.Count > 0)
            {
                waitNotes.Add($"{system.Name}, per gap in us: the client's waits for a reply that parked (not ended spinning), and the calls whose request found the server's receiver parked and woke it (the engine's counters of the client's connection): {string.Join("; ", parked)}.");
            }
        }

        // last, when every system has been warmed up and used
        (double client, double server) idle = await IdleCostAsync(ServerCpuNs, idleWindow, cancellationToken);
        AddRatios(report.Results);
        AddNotes(report, systems, gaps, calls, rounds, idle, waitNotes, cut, server.Id, loadBefore);
        return report;
    }

    /// <summary>
    /// Runs a system's measurement where rtt runs it: a blocking call's loop on a new thread pinned
    /// to the client core, an awaited call's on the thread pool.
    /// </summary>
    private static async Task<T> RunAsCallerAsync<T>(EchoSystem system, Func<Task<T>> measure) => system.Blocking is not null
        ? RttRecorder.RunPinned(() => measure().GetAwaiter().GetResult())
        : await Task.Run(measure);

    /// <summary>CPU time of each process per millisecond with no calls at all: the floor under every row, which grows with the gap.</summary>
    private static async Task<(double Client, double Server)> IdleCostAsync(Func<long> serverCpuNs, TimeSpan window, CancellationToken cancellationToken)
    {
        long server0 = serverCpuNs(), client0 = Clocks.ProcessCpuNs(), start = Clocks.MonotonicNs();
        await Task.Delay(window, cancellationToken); // a sleep is the thing measured here
        long client = Clocks.ProcessCpuNs() - client0;
        double elapsedMs = (Clocks.MonotonicNs() - start) / 1e6;
        long server = serverCpuNs() - server0;
        return (client / 1000.0 / elapsedMs, server / 1000.0 / elapsedMs);
    }

    private static Dictionary<string, object> Row(string system, long gapUs, PacedGap g)
    {
        double client = g.ClientCpuNs / 1000.0 / g.Calls, server = g.ServerCpuNs / 1000.0 / g.Calls;
        return new Dictionary<string, object>
        {
            ["transport"] = system,
            ["gap_us"] = gapUs,
            ["slept_us"] = g.SleptNs / 1000.0 / g.Calls,
            ["calls"] = g.Calls,
            ["rtt_p50_us"] = g.Rtt.GetValueAtPercentile(50) / 1000.0,
            ["rtt_p99_us"] = g.Rtt.GetValueAtPercentile(99) / 1000.0,
            ["cpu_client_us"] = client,
            ["cpu_server_us"] = server,
            ["cpu_total_us"] = client + server,
        };
    }

    /// <summary>Each row's p50 and CPU per call over the baseline's at the same gap (none where the baseline did not run).</summary>
    private static void AddRatios(List<Dictionary<string, object>> rows)
    {
        foreach (Dictionary<string, object> row in rows)
        {
            Dictionary<string, object>? baseline = rows.FirstOrDefault(r => (string)r["transport"] == Baseline && (long)r["gap_us"] == (long)row["gap_us"]);
            if (baseline is not null)
            {
                row["rtt_p50_vs_uds_epoll"] = (double)row["rtt_p50_us"] / Math.Max((double)baseline["rtt_p50_us"], 1e-3);
                row["cpu_total_vs_uds_epoll"] = (double)row["cpu_total_us"] / Math.Max((double)baseline["cpu_total_us"], 1e-3);
            }
        }
    }

    private static void AddNotes(ScenarioReport report, IReadOnlyList<EchoSystem> systems, long[] gaps, long calls, int rounds,
        (double Client, double Server) idle, List<string> waitNotes, SortedSet<string> cut, int serverId, string loadBefore)
    {
        List<Dictionary<string, object>> rows = report.Results;
        foreach (string system in s_headlineSystems.Where(s => systems.Any(e => e.Name == s)))
        {
            List<Dictionary<string, object>> mine = [.. rows.Where(r => (string)r["transport"] == system && r.ContainsKey("cpu_total_vs_uds_epoll"))];
            if (mine.Count > 0)
            {
                report.Notes.Add($"{system} / {Baseline} at the same gap (us): p50 "
                    + string.Join(", ", mine.Select(r => Invariant($"{r["gap_us"]}: {(double)r["rtt_p50_vs_uds_epoll"]:F2}x")))
                    + "; CPU per call, both processes "
                    + string.Join(", ", mine.Select(r => Invariant($"{r["gap_us"]}: {(double)r["cpu_total_vs_uds_epoll"]:F2}x")))
                    + ".");
            }
        }

        report.Notes.AddRange(waitNotes);
        report.Notes.Add(Invariant(
            $"Per gap: {calls:N0} counted calls") +
            (cut.Count == 0 ? "" : $" (cut for long gaps so that a row sleeps about {(report.Quick ? 1 : 10)} s: {string.Join(", ", cut)})") +
            Invariant($", in {rounds} round{(rounds == 1 ? "" : "s")}: each round runs every gap of every system in turn, the systems in a new order each round, so that the machine's changes of speed fall on all of them alike; each part of a round has a warm-up of 5% (at least 50 calls), not counted, and a row pools its rounds.") +
            " Before the first round each system makes calls back to back for a while, for the JIT. Before each call the client sleeps until the gap has passed since the end of the previous call (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), timer slack 1 ns); slept_us is that time as it was, on average. Round trip from just before the call to just after its answer.");
        report.Notes.Add(Invariant(
            $"CPU per call: each process's CPU time, user and system, all threads (CLOCK_PROCESS_CPUTIME_ID), over the counted calls and their gaps, divided by the calls; the server (pid {serverId}) reads its own and answers over its standard input and output. Both processes also host the systems not being measured: with no calls at all (measured after the rows) they use {idle.Client:F2} us (client) and {idle.Server:F2} us (server) of CPU per ms, a floor under every row that grows with the gap (at 1 ms, that much per call)."));
        report.Notes.Add(Invariant(
            $"Spin budget {RpalEngine.SpinBudget.TotalMicroseconds:F0} us (RpalEngine.SpinBudget; RPAL_SPIN_NS {(Environment.GetEnvironmentVariable("RPAL_SPIN_NS") is { } ns ? $"= {ns}, in both processes" : "not set")}). Blocking calls from a thread pinned to core {Affinity.ClientCore}, awaited ones from the thread pool; the server process on core {Affinity.ServerCore}. Load average before the run: {loadBefore}; after: {LoadAverage()}."));
        if (report.Quick)
        {
            report.Notes.Add("Quick run: too few calls for the numbers to mean much.");
        }
    }

    private static long[] Gaps(BenchOptions options)
    {
        if (!options.Extra.TryGetValue("gaps", out string? text))
        {
            return s_defaultGapsMicroseconds;
        }

        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        return parts.Length > 0 && parts.All(p => long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out long us) && us <= MaxGapMicroseconds)
            ? [.. parts.Select(p => long.Parse(p, CultureInfo.InvariantCulture))]
            : throw new FormatException($"--gaps takes a comma-separated list of gaps in microseconds, 0 to {MaxGapMicroseconds:N0} each");
    }

    private static int Rounds(BenchOptions options)
    {
        if (!options.Extra.TryGetValue("rounds", out string? text))
        {
            return options.Quick ? 1 : DefaultRounds;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is > 0 and <= MaxRounds
            ? n
            : throw new FormatException($"--rounds takes a whole number from 1 to {MaxRounds}");
    }

    private static long Calls(BenchOptions options)
    {
        if (!options.Extra.TryGetValue("calls", out string? text))
        {
            return options.Messages ?? (options.Quick ? QuickCalls : DefaultCalls);
        }

        return long.TryParse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out long n) && n > 0 && n <= 10_000_000
            ? n
            : throw new FormatException("--calls takes a whole number from 1 to 10,000,000");
    }

    private static string Percent(ulong part, ulong whole) => Invariant($"{(whole == 0 ? 0 : 100.0 * part / whole):F1}%");

    private static string LoadAverage()
    {
        try
        {
            string[] fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{fields[0]} {fields[1]} {fields[2]}";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string Invariant(FormattableString s) => FormattableString.Invariant(s);
}
