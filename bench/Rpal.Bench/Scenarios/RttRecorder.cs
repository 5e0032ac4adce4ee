using System.Diagnostics;
using HdrHistogram;

namespace Rpal.Bench;

/// <summary>
/// Times round trips one at a time on a thread pinned to <see cref="Affinity.ClientCore"/>, after a
/// warm-up long enough for the JIT's tier-1 code (and its background compiles) to settle.
/// </summary>
internal static class RttRecorder
{
    /// <summary>The largest round trip a histogram holds (longer ones count as this): 60 s.</summary>
    private const long HighestNs = 60_000_000_000;

    /// <summary>
    /// Calls <paramref name="call"/> for <paramref name="warmup"/> (and at least a tenth of
    /// <paramref name="calls"/> times), checking that each returns its argument, then times
    /// <paramref name="calls"/> calls, each in ns.
    /// </summary>
    public static LongHistogram Measure(Func<long, long> call, long calls, TimeSpan warmup, CancellationToken cancellationToken)
    {
        return RunPinned(() =>
        {
            long warmEnd = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
            for (long i = 0; i < calls / 10 || Stopwatch.GetTimestamp() < warmEnd; i++)
            {
                if (call(i) != i)
                {
                    throw new InvalidOperationException($"the echo returned a different value for {i}");
                }

                if ((i & 1023) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }

            var histogram = new LongHistogram(HighestNs, 3);
            double nsPerTick = 1e9 / Stopwatch.Frequency;
            for (long i = 0; i < calls; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                call(i);
                long ns = (long)((Stopwatch.GetTimestamp() - t0) * nsPerTick);
                histogram.RecordValue(Math.Min(ns, HighestNs));
            }

            return histogram;
        });
    }

    /// <summary>
    /// As <see cref="Measure"/> for an asynchronous call, awaited one at a time by an async loop
    /// on the thread pool (where an application's awaits run; its threads are not pinned).
    /// </summary>
    public static async Task<LongHistogram> MeasureAsync(Func<long, ValueTask<long>> call, long calls, TimeSpan warmup, CancellationToken cancellationToken)
    {
        await Task.Yield();
        long warmEnd = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        for (long i = 0; i < calls / 10 || Stopwatch.GetTimestamp() < warmEnd; i++)
        {
            if (await call(i).ConfigureAwait(false) != i)
            {
                throw new InvalidOperationException($"the echo returned a different value for {i}");
            }

            cancellationToken.ThrowIfCancellationRequested();
        }

        var histogram = new LongHistogram(HighestNs, 3);
        double nsPerTick = 1e9 / Stopwatch.Frequency;
        for (long i = 0; i < calls; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            await call(i).ConfigureAwait(false);
            long ns = (long)((Stopwatch.GetTimestamp() - t0) * nsPerTick);
            histogram.RecordValue(Math.Min(ns, HighestNs));
        }

        return histogram;
    }

    /// <summary>Runs <paramref name="work"/> on a new thread pinned to the client core and returns its result.</summary>
    public static T RunPinned<T>(Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            Affinity.PinCurrentThread(Affinity.ClientCore);
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        { Name = "bench-client" };
        thread.Start();
        thread.Join();
        return failure is null ? result : throw new InvalidOperationException("the measurement failed", failure);
    }
}
