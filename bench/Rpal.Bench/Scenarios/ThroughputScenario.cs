using System.Diagnostics;
using System.Globalization;
using Rpal.Bench.Contracts;
using Rpal.Bench.Server;
using Rpal.Rpc;

namespace Rpal.Bench;

/// <summary>
/// throughput: calls per second of <see cref="IBenchService.Echo"/> with 1, 2 and 4 client threads,
/// each making blocking calls back to back, on one shared channel and on a channel per thread.
/// </summary>
internal sealed class ThroughputScenario : IScenario
{
    private static readonly int[] s_threadCounts = [1, 2, 4];

    public string Name => "throughput";

    public string Description => "Echo calls/s over rpal with 1, 2, 4 client threads (shared channel, channel per thread)";

    public async Task<ScenarioReport> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        TimeSpan duration = options.Extra.TryGetValue("seconds", out string? s)
            ? TimeSpan.FromSeconds(double.Parse(s, CultureInfo.InvariantCulture))
            : TimeSpan.FromSeconds(options.Quick ? 0.3 : 3);
        TimeSpan warmup = options.Quick ? TimeSpan.FromSeconds(0.2) : TimeSpan.FromSeconds(2.5);

        using BenchServerProcess server = await BenchServerProcess.StartAsync(cancellationToken);
        await using RpalChannel shared = await RpalChannel.ConnectAsync(BenchEndpoints.RpalService, cancellationToken: cancellationToken);
        int maxThreads = s_threadCounts.Max();
        var own = new List<RpalChannel>();
        try
        {
            for (int i = 0; i < maxThreads; i++)
            {
                own.Add(await RpalChannel.ConnectAsync(BenchEndpoints.RpalService, cancellationToken: cancellationToken));
            }

            IBenchService sharedClient = shared.CreateClient<IBenchService>();
            IBenchService[] ownClients = [.. own.Select(c => c.CreateClient<IBenchService>())];
            Run(1, warmup, _ => sharedClient, cancellationToken); // JIT tier-up
            foreach (IBenchService c in ownClients)
            {
                c.Echo(1);
            }

            var report = new ScenarioReport { Scenario = Name, Machine = MachineInfo.Current, Quick = options.Quick };
            foreach (int threads in s_threadCounts)
            {
                foreach ((string channels, Func<int, IBenchService> client) in new (string, Func<int, IBenchService>)[] { ("shared", _ => sharedClient), ("per-thread", i => ownClients[i]) })
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    double rate = Run(threads, duration, client, cancellationToken);
                    report.Results.Add(new Dictionary<string, object>
                    {
                        ["system"] = "rpal",
                        ["threads"] = threads,
                        ["channels"] = channels,
                        ["calls_per_s"] = Math.Round(rate),
                    });
                }
            }

            report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"Each thread makes blocking Echo(long) calls back to back for {duration.TotalSeconds:F1} s; client threads pinned to the cores other than the server's (core {Affinity.ServerCore}), round-robin: on {Environment.ProcessorCount} cores, {Affinity.ClientCores().Length} client core(s)."));
            if (options.Quick)
            {
                report.Notes.Add("Quick run: too short for the numbers to mean much.");
            }

            return report;
        }
        finally
        {
            foreach (RpalChannel c in own)
            {
                await c.DisposeAsync();
            }
        }
    }

    /// <summary>Runs <paramref name="threads"/> callers for <paramref name="duration"/>; returns the calls per second of all together.</summary>
    private static double Run(int threads, TimeSpan duration, Func<int, IBenchService> client, CancellationToken cancellationToken)
    {
        int[] cores = Affinity.ClientCores();
        long[] counts = new long[threads * 16]; // one cache line apart
        using var start = new ManualResetEventSlim();
        bool stop = false;
        Exception? failure = null;
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() =>
            {
                if (cores.Length > 0)
                {
                    Affinity.PinCurrentThread(cores[index % cores.Length]);
                }

                IBenchService c = client(index);
                long n = 0;
                try
                {
                    start.Wait(cancellationToken);
                    while (!Volatile.Read(ref stop))
                    {
                        c.Echo(n++);
                    }
                }
                catch (Exception e)
                {
                    failure ??= e;
                }

                counts[index * 16] = n;
            })
            { Name = $"bench-throughput-{t}" };
            workers[t].Start();
        }

        long t0 = Stopwatch.GetTimestamp();
        start.Set();
        cancellationToken.WaitHandle.WaitOne(duration);
        Volatile.Write(ref stop, true);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(t0);
        foreach (Thread w in workers)
        {
            w.Join();
        }

        cancellationToken.ThrowIfCancellationRequested();
        return failure is null ? counts.Sum() / elapsed.TotalSeconds : throw new InvalidOperationException("a client thread failed", failure);
    }
}
