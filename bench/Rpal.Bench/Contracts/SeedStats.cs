using System.Runtime.InteropServices;

namespace Rpal.Bench;

/// <summary>
/// The distribution of one run's one-way latencies, in clock units (TSC cycles), as the server
/// sends it back: over the Rpal channel as the result of <see cref="ISeedService.Finish"/>, and
/// over the Unix socket as these 72 bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct SeedStats
{
    /// <summary>Message kind: a warm-up message, not counted.</summary>
    public const long Warmup = 0;

    /// <summary>Message kind: a counted message.</summary>
    public const long Counted = 1;

    /// <summary>Message kind (Unix socket only): the end of the run; the server answers with the stats.</summary>
    public const long End = 2;

    /// <summary>Counted messages.</summary>
    public long Count;

    /// <summary>The sum of their latencies.</summary>
    public long Total;

    /// <summary>Percentiles and the maximum.</summary>
    public long P50, P90, P99, P999, Max;

    /// <summary>Latencies below zero: the two clocks disagree (a TSC that is not synchronised).</summary>
    public long Negative;

    /// <summary>Counted messages the server had no room for (more than it was started for).</summary>
    public long Dropped;

    /// <summary>The distribution of <paramref name="samples"/> (sorted in place).</summary>
    public static SeedStats Of(Span<long> samples, long dropped)
    {
        samples.Sort();
        long total = 0, negative = 0;
        foreach (long s in samples)
        {
            total += s;
            negative += s < 0 ? 1 : 0;
        }

        return new SeedStats
        {
            Count = samples.Length,
            Total = total,
            P50 = At(samples, 0.50),
            P90 = At(samples, 0.90),
            P99 = At(samples, 0.99),
            P999 = At(samples, 0.999),
            Max = samples.Length == 0 ? 0 : samples[^1],
            Negative = negative,
            Dropped = dropped,
        };
    }

    private static long At(ReadOnlySpan<long> sorted, double p) => sorted.Length == 0 ? 0 : sorted[(int)((sorted.Length - 1) * p)];
}
