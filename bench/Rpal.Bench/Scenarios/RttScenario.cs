using System.Globalization;
using HdrHistogram;
using Rpal.Bench.Server;

namespace Rpal.Bench;

/// <summary>
/// rtt: the unary round trip of an 8-byte echo between two processes on different cores, through
/// one shared cache line (the floor: <see cref="FloorLine"/>), Rpal's generated client (blocking, and awaited with and without its spin), the raw engine
/// call, a Unix socket with an epoll server, and grpc-dotnet over HTTP/2 on a Unix socket
/// (blocking and awaited), side by side against one server process (<see cref="EchoClients"/>).
/// </summary>
internal sealed class RttScenario : IScenario
{
    private const long DefaultCalls = 200_000;
    private const long QuickCalls = 2_000;

    public string Name => "rtt";

    public string Description => "8-byte echo round trip, p50..max: floor (one shared cache line), rpal (blocking and awaited), rpal-engine, uds-epoll, grpc-dotnet-uds (blocking and awaited); --systems LIST for some";

    public async Task<ScenarioReport> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        long calls = options.Messages ?? (options.Quick ? QuickCalls : DefaultCalls);
        TimeSpan warmup = options.Quick ? TimeSpan.FromSeconds(0.2) : TimeSpan.FromSeconds(2.5);

        using BenchServerProcess server = await BenchServerProcess.StartAsync(cancellationToken);
        await using EchoClients clients = await EchoClients.ConnectAsync(server.Endpoints, cancellationToken);

        var report = new ScenarioReport { Scenario = Name, Machine = MachineInfo.Current, Quick = options.Quick };
        var p50 = new Dictionary<string, long>();
        foreach (EchoSystem system in clients.Chosen(options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            Console.Error.WriteLine($"rpal-bench: rtt {system.Name}: {warmup.TotalSeconds:F1} s warm-up, {calls:N0} calls");
            LongHistogram h;
            if (system.Session is { } open)
            {
                using FloorLine line = open();
                h = RttRecorder.Measure(line.RoundTrip, calls, warmup, cancellationToken);
            }
            else
            {
                h = system.Blocking is { } call
                    ? RttRecorder.Measure(call, calls, warmup, cancellationToken)
                    : await RttRecorder.MeasureAsync(system.Awaited!, calls, warmup, cancellationToken);
            }

            p50[system.Name] = h.GetValueAtPercentile(50);
            report.Results.Add(new Dictionary<string, object>
            {
                ["system"] = system.Name,
                ["p50_ns"] = h.GetValueAtPercentile(50),
                ["p90_ns"] = h.GetValueAtPercentile(90),
                ["p99_ns"] = h.GetValueAtPercentile(99),
                ["p999_ns"] = h.GetValueAtPercentile(99.9),
                ["max_ns"] = h.GetMaxValue(),
                ["calls"] = h.TotalCount,
            });
        }

        // each ratio compares two systems of this run; with --systems, those measured
        void Ratio(string over, string under, string what)
        {
            if (p50.TryGetValue(over, out long a) && p50.TryGetValue(under, out long b))
            {
                double r = a / (double)Math.Max(1, b);
                report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{over} p50 / {under} p50 = {r:F2}x{what}"));
            }
        }

        if (p50.TryGetValue("grpc-dotnet-uds", out long grpc) && p50.TryGetValue("rpal", out long rpal))
        {
            double grpcOverRpal = grpc / (double)Math.Max(1, rpal);
            report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"grpc-dotnet-uds p50 / rpal p50 = {grpcOverRpal:F1}x (target >= 50x: {(grpcOverRpal >= 50 ? "met" : "missed")})."));
        }

        Ratio("rpal", "floor", " (how far Rpal's call is from one shared cache line between the same two cores: the physical limit).");
        Ratio("rpal-engine", "floor", " (the engine's own call against that limit).");
        Ratio("rpal", "rpal-engine", " (the RPC layer's cost over the engine's own call).");
        Ratio("uds-epoll", "rpal", ".");
        Ratio("rpal-await-nospin", "rpal-await", " (an awaited call's spin on the caller's thread, against leaving its wait to the completion thread: SpinOnAwaitedCalls = false).");
        Ratio("grpc-dotnet-uds-await", "rpal-await", ".");
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"Client thread pinned to core {Affinity.ClientCore}, server process (pid {server.Id}) to core {Affinity.ServerCore}; {warmup.TotalSeconds:F1} s warm-up per system; values in ns from HdrHistogram (3 significant digits)."));
        if (options.Quick)
        {
            report.Notes.Add("Quick run: too few calls and too short a warm-up for the numbers to mean much.");
        }

        return report;
    }
}
