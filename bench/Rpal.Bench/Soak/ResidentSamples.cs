namespace Rpal.Bench.Soak;

/// <summary>
/// One process's resident memory over a soak: the sample taken when the warm-up ended, the
/// largest after it, and the last. Growth is measured from the warm-up sample.
/// </summary>
internal sealed class ResidentSamples(int pid)
{
    /// <summary>Resident bytes when the warm-up ended; -1 until then.</summary>
    public long Warm { get; private set; } = -1;

    /// <summary>The largest sample since the warm-up (the last included).</summary>
    public long Max { get; private set; } = -1;

    /// <summary>The last sample.</summary>
    public long Last { get; private set; } = -1;

    /// <summary>Whether the warm-up sample was taken.</summary>
    public bool IsWarm => Warm > 0;

    /// <summary>Growth from the warm-up sample to the last, in percent (NaN before the warm-up).</summary>
    public double GrowthPercent => IsWarm && Last > 0 ? 100.0 * (Last - Warm) / Warm : double.NaN;

    /// <summary>Growth from the warm-up sample to the largest, in percent (NaN before the warm-up).</summary>
    public double MaxGrowthPercent => IsWarm && Max > 0 ? 100.0 * (Max - Warm) / Warm : double.NaN;

    /// <summary>Takes the warm-up sample.</summary>
    public void SampleWarm()
    {
        long rss = ProcessMemory.ResidentBytes(pid);
        if (rss > 0)
        {
            Warm = Max = Last = rss;
        }
    }

    /// <summary>Takes a sample (it counts toward the maximum once the warm-up sample was taken); returns it, -1 if unreadable.</summary>
    public long Sample()
    {
        long rss = ProcessMemory.ResidentBytes(pid);
        if (rss > 0)
        {
            Last = rss;
            if (IsWarm)
            {
                Max = Math.Max(Max, rss);
            }
        }

        return rss;
    }
}
