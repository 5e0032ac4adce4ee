using System.Diagnostics;
using System.Globalization;
using HdrHistogram;
using Rpal.Bench.Contracts;
using Rpal.Bench.Server;
using Rpal.Rpc;

namespace Rpal.Bench;

/// <summary>
/// size: the round trip of <see cref="IBenchService.Length"/> (the payload one way, a tiny reply)
/// over Rpal for payloads of 32 B to 1 MiB, against memcpy of the same size on this machine, and
/// against the same channel's call without a payload (<see cref="IBenchService.Echo"/>, its
/// arguments inline in the message), measured in the same run.
/// </summary>
internal sealed class SizeScenario : IScenario
{
    private const int SmallPayload = 4 << 10; // payloads up to this size should cost about what an inline call does
    private static readonly int[] s_sizes = [32, 128, 512, 2 << 10, 4 << 10, 8 << 10, 32 << 10, 128 << 10, 512 << 10, 1 << 20];
    private static readonly int[] s_quickSizes = [32, 2 << 10, 128 << 10, 1 << 20];

    public string Name => "size";

    public string Description => "Length(bytes) round trip p50 over rpal, 32 B..1 MiB, against memcpy and the inline call";

    public async Task<ScenarioReport> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        int[] sizes = options.Quick ? s_quickSizes : s_sizes;
        long calls = options.Messages ?? (options.Quick ? 300 : 5_000);
        TimeSpan warmup = options.Quick ? TimeSpan.FromSeconds(0.2) : TimeSpan.FromSeconds(2.5);

        using BenchServerProcess server = await BenchServerProcess.StartAsync(cancellationToken);
        await using RpalChannel channel = await RpalChannel.ConnectAsync(BenchEndpoints.RpalService, cancellationToken: cancellationToken);
        IBenchService rpal = channel.CreateClient<IBenchService>();
        byte[][] payloads = [.. sizes.Select(Payload)];

        var report = new ScenarioReport { Scenario = Name, Machine = MachineInfo.Current, Quick = options.Quick };
        var rpalRate = new Dictionary<int, double>();
        var rpalP50 = new Dictionary<int, long>();
        long inlineP50 = 0;
        var memcpyRate = new Dictionary<int, double>();
        RttRecorder.RunPinned(() =>
        {
            // Warm up the two code paths, over every size (JIT tier-up, arena pages).
            long warmEnd = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
            for (int i = 0; Stopwatch.GetTimestamp() < warmEnd || i < payloads.Length; i++)
            {
                byte[] p = payloads[i % payloads.Length];
                if (rpal.Length(p) != p.Length)
                {
                    throw new InvalidOperationException($"Length returned a wrong length for {p.Length} bytes");
                }

                rpal.Echo(i);
            }

            inlineP50 = P50(() => rpal.Echo(1), calls);
            report.Results.Add(Row("rpal-inline", 0, inlineP50, 0));
            foreach (byte[] payload in payloads)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long p50 = P50(() => rpal.Length(payload), calls);
                rpalP50[payload.Length] = p50;
                rpalRate[payload.Length] = payload.Length * 1e9 / Math.Max(1, p50);
                report.Results.Add(Row("rpal", payload.Length, p50, rpalRate[payload.Length]));

                double copyNs = MemcpyP50(payload, options.Quick ? 200 : 500);
                memcpyRate[payload.Length] = payload.Length * 1e9 / copyNs;
                report.Results.Add(Row("memcpy", payload.Length, copyNs, memcpyRate[payload.Length]));
            }

            return 0;
        });

        string[] small = [.. sizes.Where(n => n <= SmallPayload).Select(n => string.Create(CultureInfo.InvariantCulture, $"{n} B {rpalP50[n] / (double)Math.Max(1, inlineP50):F2}x"))];
        double worst = sizes.Where(n => n <= SmallPayload).Max(n => rpalP50[n] / (double)Math.Max(1, inlineP50));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"A call with a payload against the same channel's call without one (rpal-inline: Echo(long), {inlineP50} ns p50, same run): {string.Join(", ", small)} (target <= 1.5x up to {SmallPayload >> 10} KiB: {(worst <= 1.5 ? "met" : "missed")})."));
        int largest = sizes[^1];
        double share = rpalRate[largest] / memcpyRate[largest];
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"{largest >> 20} MiB over rpal: {rpalRate[largest] / 1e9:F2} GB/s = {share * 100:F0}% of memcpy's {memcpyRate[largest] / 1e9:F2} GB/s (target >= 50%: {(share >= 0.5 ? "met" : "missed")})."));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"rpal: p50 of {calls:N0} Length(data) round trips per size (bytes_per_s = size / p50, the reply is 4 bytes); memcpy: p50 time of one Span.CopyTo of that size, from batches copying at least 256 KiB. Client pinned to core {Affinity.ClientCore}, server to core {Affinity.ServerCore}."));
        if (options.Quick)
        {
            report.Notes.Add("Quick run: fewer sizes and calls, too few for the numbers to mean much.");
        }

        return report;
    }

    private static byte[] Payload(int size)
    {
        byte[] data = new byte[size];
        new Random(size).NextBytes(data);
        return data;
    }

    private static long P50(Action call, long calls)
    {
        for (int i = 0; i < 100; i++)
        {
            call();
        }

        var histogram = new LongHistogram(60_000_000_000, 3);
        double nsPerTick = 1e9 / Stopwatch.Frequency;
        for (long i = 0; i < calls; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            histogram.RecordValue(Math.Min((long)((Stopwatch.GetTimestamp() - t0) * nsPerTick), 60_000_000_000));
        }

        return histogram.GetValueAtPercentile(50);
    }

    /// <summary>The median time of one copy of <paramref name="source"/>'s size, in ns, timed in batches so the clock's cost vanishes.</summary>
    private static double MemcpyP50(byte[] source, int rounds)
    {
        byte[] destination = new byte[source.Length];
        int batch = Math.Max(1, (256 << 10) / source.Length);
        for (int i = 0; i < batch * 10; i++)
        {
            source.AsSpan().CopyTo(destination);
        }

        double[] perCopy = new double[rounds];
        double nsPerTick = 1e9 / Stopwatch.Frequency;
        for (int r = 0; r < rounds; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < batch; i++)
            {
                source.AsSpan().CopyTo(destination);
            }

            perCopy[r] = (Stopwatch.GetTimestamp() - t0) * nsPerTick / batch;
        }

        Array.Sort(perCopy);
        return perCopy[rounds / 2];
    }

    private static Dictionary<string, object> Row(string system, int size, double p50Ns, double bytesPerSecond) => new()
    {
        ["system"] = system,
        ["size_bytes"] = size,
        ["p50_ns"] = Math.Round(p50Ns, 1),
        ["bytes_per_s"] = Math.Round(bytesPerSecond),
    };
}
