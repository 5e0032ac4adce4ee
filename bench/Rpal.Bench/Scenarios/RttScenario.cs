using System.Globalization;
using System.Net.Sockets;
using GreeterExample;
using Grpc.Net.Client;
using HdrHistogram;
using Quickstart;
using Rpal.Bench.Contracts;
using Rpal.Bench.Server;
using Rpal.Rpc;
using Rpal.Runtime;

namespace Rpal.Bench;

/// <summary>
/// rtt: the unary round trip of an 8-byte echo between two processes on different cores, through
/// Rpal's generated client (blocking, and awaited with and without its spin), the raw engine
/// call, a Unix socket with an epoll server, and grpc-dotnet over HTTP/2 on a Unix socket
/// (blocking and awaited), side by side against one server process.
/// </summary>
internal sealed class RttScenario : IScenario
{
    private const long DefaultCalls = 200_000;
    private const long QuickCalls = 2_000;

    public string Name => "rtt";

    public string Description => "8-byte echo round trip, p50..max: rpal (blocking and awaited), rpal-engine, uds-epoll, grpc-dotnet-uds (blocking and awaited)";

    public async Task<ScenarioReport> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        long calls = options.Messages ?? (options.Quick ? QuickCalls : DefaultCalls);
        TimeSpan warmup = options.Quick ? TimeSpan.FromSeconds(0.2) : TimeSpan.FromSeconds(2.5);

        using BenchServerProcess server = await BenchServerProcess.StartAsync(cancellationToken);
        await using RpalChannel channel = await RpalChannel.ConnectAsync(BenchEndpoints.RpalService, cancellationToken: cancellationToken);
        IBenchService rpal = channel.CreateClient<IBenchService>();
        await using RpalChannel noSpinChannel = await RpalChannel.ConnectAsync(
            BenchEndpoints.RpalService, new RpalChannelOptions { SpinOnAwaitedCalls = false }, cancellationToken);
        IBenchService rpalNoSpin = noSpinChannel.CreateClient<IBenchService>();
        using RpalConnection engine = RpalConnection.Connect(BenchEndpoints.RawEngineService);
        using Socket uds = EpollEcho.Connect(server.Endpoints.EchoSocket);
        int udsFd = (int)uds.Handle;
        using GrpcChannel grpcChannel = UnixSocketChannel.Create(server.Endpoints.GrpcSocket);
        IBenchService grpc = RpalGrpc.CreateClient<IBenchService>(grpcChannel);

        Func<Task<LongHistogram>> Blocking(Func<long, long> call) =>
            () => Task.FromResult(RttRecorder.Measure(call, calls, warmup, cancellationToken));
        (string System, Func<Task<LongHistogram>> Measure)[] systems =
        [
            ("rpal", Blocking(v => rpal.Echo(v))),
            ("rpal-await", () => RttRecorder.MeasureAsync(rpal.EchoAsync, calls, warmup, cancellationToken)),
            ("rpal-await-nospin", () => RttRecorder.MeasureAsync(rpalNoSpin.EchoAsync, calls, warmup, cancellationToken)),
            ("rpal-engine", Blocking(v => RawEngineEcho.Call(engine, v))),
            ("uds-epoll", Blocking(v => EpollEcho.RoundTrip(udsFd, v))),
            ("grpc-dotnet-uds", Blocking(v => grpc.Echo(v))),
            ("grpc-dotnet-uds-await", () => RttRecorder.MeasureAsync(grpc.EchoAsync, calls, warmup, cancellationToken)),
        ];

        var report = new ScenarioReport { Scenario = Name, Machine = MachineInfo.Current, Quick = options.Quick };
        var p50 = new Dictionary<string, long>();
        foreach ((string system, Func<Task<LongHistogram>> measure) in systems)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Console.Error.WriteLine($"rpal-bench: rtt {system}: {warmup.TotalSeconds:F1} s warm-up, {calls:N0} calls");
            LongHistogram h = await measure();
            p50[system] = h.GetValueAtPercentile(50);
            report.Results.Add(new Dictionary<string, object>
            {
                ["system"] = system,
                ["p50_ns"] = h.GetValueAtPercentile(50),
                ["p90_ns"] = h.GetValueAtPercentile(90),
                ["p99_ns"] = h.GetValueAtPercentile(99),
                ["p999_ns"] = h.GetValueAtPercentile(99.9),
                ["max_ns"] = h.GetMaxValue(),
                ["calls"] = h.TotalCount,
            });
        }

        double grpcOverRpal = p50["grpc-dotnet-uds"] / (double)Math.Max(1, p50["rpal"]);
        double rpalOverEngine = p50["rpal"] / (double)Math.Max(1, p50["rpal-engine"]);
        double udsOverRpal = p50["uds-epoll"] / (double)Math.Max(1, p50["rpal"]);
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"grpc-dotnet-uds p50 / rpal p50 = {grpcOverRpal:F1}x (target >= 50x: {(grpcOverRpal >= 50 ? "met" : "missed")})."));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"rpal p50 / rpal-engine p50 = {rpalOverEngine:F2}x (the RPC layer's cost over the engine's own call)."));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"uds-epoll p50 / rpal p50 = {udsOverRpal:F1}x."));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"rpal-await-nospin p50 / rpal-await p50 = {p50["rpal-await-nospin"] / (double)Math.Max(1, p50["rpal-await"]):F1}x (an awaited call's spin on the caller's thread, against leaving its wait to the completion thread: SpinOnAwaitedCalls = false)."));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"grpc-dotnet-uds-await p50 / rpal-await p50 = {p50["grpc-dotnet-uds-await"] / (double)Math.Max(1, p50["rpal-await"]):F1}x."));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"Client thread pinned to core {Affinity.ClientCore}, server process (pid {server.Id}) to core {Affinity.ServerCore}; {warmup.TotalSeconds:F1} s warm-up per system; values in ns from HdrHistogram (3 significant digits)."));
        if (options.Quick)
        {
            report.Notes.Add("Quick run: too few calls and too short a warm-up for the numbers to mean much.");
        }

        return report;
    }
}
