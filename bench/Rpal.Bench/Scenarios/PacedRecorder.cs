using HdrHistogram;
using Rpal.Runtime;

namespace Rpal.Bench;

/// <summary>
/// Times calls made a gap apart, and what they cost in CPU time on both sides (the paced scenario).
/// Before each call the caller sleeps until the gap has passed since the end of the previous call
/// (<see cref="Clocks.SleepUntil"/>, an absolute CLOCK_MONOTONIC time; gap 0 does not sleep). The
/// first calls warm up and are not counted; the CPU windows of both processes open after the last
/// of them and close after the last counted call, so that each holds as many gaps as calls.
/// </summary>
internal static class PacedRecorder
{
    /// <summary>The largest round trip a histogram holds (longer ones count as this): 60 s.</summary>
    private const long HighestNs = 60_000_000_000;

    /// <summary>
    /// Calls <paramref name="call"/> <paramref name="warmup"/> + <paramref name="calls"/> times,
    /// <paramref name="gapNs"/> apart, checking that each returns its argument, and times the
    /// last <paramref name="calls"/>. <paramref name="serverCpuNs"/> reads the server's CPU time;
    /// <paramref name="stats"/>, when there is one, the engine's counters of the connection.
    /// The loop awaits nothing but the call (the server's CPU is read blocking), so that a call
    /// that completes synchronously keeps the whole loop on the caller's thread: a blocking call's
    /// loop stays on the pinned thread it was started on.
    /// </summary>
    public static async Task<PacedGap> MeasureAsync(Func<long, ValueTask<long>> call, long gapNs, long warmup, long calls,
        Func<long> serverCpuNs, Func<RpalConnectionStats>? stats, CancellationToken cancellationToken)
    {
        var rtt = new LongHistogram(HighestNs, 3);
        long cpuClient0 = 0, cpuServer0 = 0, slept = 0, previousEnd = 0;
        RpalConnectionStats stats0 = default;
        long end = Clocks.MonotonicNs();
        for (long i = 0; i < warmup + calls; i++)
        {
            if (gapNs > 0)
            {
                Clocks.SleepUntil(end + gapNs);
            }

            long start = Clocks.MonotonicNs();
            long answer = await call(i).ConfigureAwait(false);
            end = Clocks.MonotonicNs();
            if (answer != i)
            {
                throw new InvalidOperationException($"the echo returned {answer} for {i}");
            }

            if (i >= warmup)
            {
                rtt.RecordValue(Math.Min(end - start, HighestNs));
                slept += start - previousEnd;
            }
            else if (i + 1 == warmup)
            {
                // The windows open: the server's first (its answer takes a pipe's round trip, which
                // the client's window then leaves out), and the first gap starts after both.
                cancellationToken.ThrowIfCancellationRequested();
                cpuServer0 = serverCpuNs();
                stats0 = stats?.Invoke() ?? default;
                cpuClient0 = Clocks.ProcessCpuNs();
                end = Clocks.MonotonicNs();
            }

            previousEnd = end;
        }

        long cpuClient = Clocks.ProcessCpuNs() - cpuClient0;
        PacedGap.Waits? waits = stats is null ? null : Delta(stats0, stats());
        long cpuServer = serverCpuNs() - cpuServer0;
        return new PacedGap(rtt, cpuClient, cpuServer, slept, waits);
    }

    /// <summary>
    /// Calls <paramref name="call"/> back to back for <paramref name="duration"/> (and at least 100
    /// times), checking each answer: long enough for the JIT's tier-1 code (and its background
    /// compiles) to settle before anything is timed. Returns the number of calls.
    /// </summary>
    public static async Task<long> WarmUpAsync(Func<long, ValueTask<long>> call, TimeSpan duration, CancellationToken cancellationToken)
    {
        long end = Clocks.MonotonicNs() + (long)(duration.TotalMilliseconds * 1_000_000);
        long i = 0;
        for (; i < 100 || Clocks.MonotonicNs() < end; i++)
        {
            long answer = await call(i).ConfigureAwait(false);
            if (answer != i)
            {
                throw new InvalidOperationException($"the echo returned {answer} for {i}");
            }

            if ((i & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        return i;
    }

    /// <summary>
    /// How many calls of a gap to count: <paramref name="calls"/>, cut for a long gap so that the
    /// warm-up and counted calls sleep about <paramref name="maxSleepNs"/> in all, but to no fewer
    /// than <paramref name="minCapped"/> (a 10 ms gap with a 10 s cap: 950 calls, not 2,000).
    /// </summary>
    public static long CappedCalls(long calls, long gapNs, long maxSleepNs, long minCapped)
    {
        if (gapNs == 0)
        {
            return calls;
        }

        long fit = maxSleepNs / gapNs; // calls whose gaps fit in the cap
        if (calls + Warmup(calls) <= fit)
        {
            return calls;
        }

        long cut = fit - Warmup(fit * 20 / 21);
        return Math.Min(calls, Math.Max(cut, minCapped));
    }

    /// <summary>The calls that warm a gap up before <paramref name="calls"/> counted ones: 5%, at least 50.</summary>
    public static long Warmup(long calls) => Math.Max(calls / 20, 50);

    private static PacedGap.Waits Delta(RpalConnectionStats before, RpalConnectionStats after) =>
        new(after.Spins - before.Spins, after.Parks - before.Parks, after.Wakeups - before.Wakeups);
}
