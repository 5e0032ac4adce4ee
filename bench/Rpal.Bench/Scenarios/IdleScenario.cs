using System.Diagnostics;
using System.Globalization;
using Rpal.Rpc;
using static Tmds.Linux.LibC;

namespace Rpal.Bench;

/// <summary>
/// <c>idle</c>: what an idle Rpal server costs, and what the first call after an idle spell
/// costs. A server child with default options serves a trivial service; after one call the
/// client leaves it alone for 10 s (--quick: 1 s) and reads the child's CPU time (utime + stime
/// in /proc/PID/stat, and the sum of its threads' schedstat, which counts in ns rather than 10 ms
/// ticks) before and after: CPU% of one core, against the 1% target. Then calls,
/// each after a 100 ms gap in which the server's receiver has used up its spin budget and
/// parked: their round-trip time is the wake-up path.
/// </summary>
internal sealed class IdleScenario : IScenario
{
    private const double TargetPercent = 1.0;
    private const int ScClkTck = 2; // _SC_CLK_TCK of glibc and musl (Tmds.LibC has no name for it)
    private static readonly TimeSpan s_gap = TimeSpan.FromMilliseconds(100);

    public string Name => "idle";

    public string Description => "CPU used by an idle server (target under 1% of a core), and the latency of a call that wakes it";

    public async Task<ScenarioReport> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        TimeSpan window = options.Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(10);
        int wakeCalls = (int)(options.Messages ?? (options.Quick ? 5 : 20));

        using ChildProcess server = await ChildProcess.StartAsync("serve-idle", [], cancellationToken);
        await using RpalChannel channel = await RpalChannel.ConnectAsync("rpal.bench.idle", cancellationToken: cancellationToken);
        IIdleService service = channel.CreateClient<IIdleService>();
        if (service.Ping(1) != 2)
        {
            throw new InvalidOperationException("the idle service answered wrongly");
        }

        // The idle window: a sleep is the thing measured here.
        long ticks0 = CpuTicks(server.Id), ns0 = CpuNanoseconds(server.Id);
        long start = Stopwatch.GetTimestamp();
        await Task.Delay(window, cancellationToken);
        long ticks1 = CpuTicks(server.Id), ns1 = CpuNanoseconds(server.Id);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long clockTicks = sysconf(ScClkTck);
        double percent = 100.0 * (ticks1 - ticks0) / clockTicks / seconds;
        double percentPrecise = ns0 >= 0 && ns1 >= 0 ? 100.0 * (ns1 - ns0) / 1e9 / seconds : double.NaN;

        var wake = new double[wakeCalls];
        for (int i = 0; i < wakeCalls; i++)
        {
            await Task.Delay(s_gap, cancellationToken);
            long t0 = Stopwatch.GetTimestamp();
            _ = service.Ping(i);
            wake[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }

        Array.Sort(wake);
        var report = new ScenarioReport { Scenario = Name, Machine = MachineInfo.Current, Quick = options.Quick };
        report.Results.Add(new Dictionary<string, object>
        {
            ["system"] = "rpal",
            // schedstat's ns beat stat's clock ticks (1% of a core over a 1 s window) where readable
            ["idle_cpu_percent"] = double.IsNaN(percentPrecise) ? percent : percentPrecise,
            ["wake_call_p50_us"] = wake[(wake.Length - 1) / 2],
            ["wake_call_max_us"] = wake[^1],
        });
        bool met = Math.Max(percent, double.IsNaN(percentPrecise) ? 0 : percentPrecise) < TargetPercent;
        report.Notes.Add(
            FormattableString.Invariant($"Idle server: {percent:F2}% of one core over {seconds:F1} s (utime+stime from /proc/{server.Id}/stat, resolution {100.0 / clockTicks / seconds:F2}%")
            + (double.IsNaN(percentPrecise) ? "" : FormattableString.Invariant($"; in the table: the sum of its threads' schedstat, ns resolution, {percentPrecise:F3}%"))
            + FormattableString.Invariant($"): the {TargetPercent}% target is {(met ? "met" : "MISSED")}."));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"Wake-up calls: {wakeCalls} synchronous round trips, each after {s_gap.TotalMilliseconds:F0} ms idle (the receiver has parked after its spin budget), default spin budget."));
        return report;
    }

    /// <summary>utime + stime of process <paramref name="pid"/>, in clock ticks (fields 14 and 15 of /proc/PID/stat).</summary>
    private static long CpuTicks(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count from after it.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>The CPU time of every live thread of <paramref name="pid"/> in ns (schedstat), or -1 where unavailable.</summary>
    private static long CpuNanoseconds(int pid)
    {
        try
        {
            long sum = 0;
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    string text = File.ReadAllText(Path.Combine(task, "schedstat"));
                    sum += long.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                    // the thread ended in between
                }
            }

            return sum;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return -1;
        }
    }
}
