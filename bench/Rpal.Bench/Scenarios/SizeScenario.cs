using System.Diagnostics;
using System.Globalization;
using HdrHistogram;
using Rpal.Bench.Contracts;
using Rpal.Bench.Server;
using Rpal.Rpc;

namespace Rpal.Bench;

/// <summary>
/// size: the round trip of <see cref="IBenchService.Length"/> (the payload one way, a tiny reply)
/// over Rpal for payloads of 32 B to 1 MiB, against memcpy of the same size on this machine.
/// </summary>
internal sealed class SizeScenario : IScenario
{
    private static readonly int[] s_sizes = [32, 128, 512, 2 << 10, 8 << 10, 32 << 10, 128 << 10, 512 << 10, 1 << 20];
    private static readonly int[] s_quickSizes = [32, 2 << 10, 128 << 10, 1 << 20];

    public string Name => "size";

    public string Description => "Length(bytes) round trip p50 over rpal, 32 B..1 MiB, against memcpy";

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
        var memcpyRate = new Dictionary<int, double>();
        RttRecorder.RunPinned(() =>
        {
            // Warm up the one code path over every size (JIT tier-up, arena pages).
            long warmEnd = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
            for (int i = 0; Stopwatch.GetTimestamp() < warmEnd || i < payloads.Length; i++)
            {
                byte[] p = payloads[i % payloads.Length];
                if (rpal.Length(p) != p.Length)
                {
                    throw new InvalidOperationException($"Length returned a wrong length for {p.Length} bytes");
                }
            }

            foreach (byte[] payload in payloads)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long p50 = RpalP50(rpal, payload, calls);
                rpalRate[payload.Length] = payload.Length * 1e9 / Math.Max(1, p50);
                report.Results.Add(Row("rpal", payload.Length, p50, rpalRate[payload.Length]));

                double copyNs = MemcpyP50(payload, options.Quick ? 200 : 500);
                memcpyRate[payload.Length] = payload.Length * 1e9 / copyNs;
                report.Results.Add(Row("memcpy", payload.Length, copyNs, memcpyRate[payload.Length]));
            }

            return 0;
        });

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

    private static long RpalP50(IBenchService rpal, byte[] payload, long calls)
    {
        for (int i = 0; i < 100; i++)
        {
            rpal.Length(payload);
        }

        var histogram = new LongHistogram(60_000_000_000, 3);
        double nsPerTick = 1e9 / Stopwatch.Frequency;
        for (long i = 0; i < calls; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            rpal.Length(payload);
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
