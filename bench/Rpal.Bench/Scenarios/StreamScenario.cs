using System.Diagnostics;
using System.Globalization;
using GreeterExample;
using Grpc.Net.Client;
using HdrHistogram;
using Rpal.Bench.Contracts;
using Rpal.Bench.Server;
using Rpal.Rpc;

namespace Rpal.Bench;

/// <summary>
/// stream: server streaming (<see cref="IBenchService.Count"/>, consumed with <c>await foreach</c>)
/// over rpal and over grpc-dotnet on a Unix socket, against one server process: elements per
/// second of a long stream, and the round trip of a one-element stream (the call, its element,
/// its end).
/// </summary>
internal sealed class StreamScenario : IScenario
{
    public string Name => "stream";

    public string Description => "server streaming, await foreach: elements/s of a long stream and a one-element stream's round trip, rpal and grpc-dotnet-uds";

    public async Task<ScenarioReport> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        long elements = options.Messages ?? (options.Quick ? 20_000 : 1_000_000);
        int shortStreams = options.Quick ? 500 : 20_000;
        using BenchServerProcess server = await BenchServerProcess.StartAsync(cancellationToken);
        await using RpalChannel channel = await RpalChannel.ConnectAsync(BenchEndpoints.RpalService, cancellationToken: cancellationToken);
        using GrpcChannel grpcChannel = UnixSocketChannel.Create(server.Endpoints.GrpcSocket);
        (string System, IBenchService Client)[] systems =
        [
            ("rpal", channel.CreateClient<IBenchService>()),
            ("grpc-dotnet-uds", RpalGrpc.CreateClient<IBenchService>(grpcChannel)),
        ];

        var report = new ScenarioReport { Scenario = Name, Machine = MachineInfo.Current, Quick = options.Quick };
        var rates = new Dictionary<string, double>();
        var p50s = new Dictionary<string, long>();
        foreach ((string system, IBenchService client) in systems)
        {
            Console.Error.WriteLine($"rpal-bench: stream {system}: {elements:N0} elements, {shortStreams:N0} one-element streams");
            await ReadAsync(client, Math.Max(1, elements / 10), cancellationToken); // warm-up: JIT tiers, pools
            var clock = Stopwatch.StartNew();
            await ReadAsync(client, elements, cancellationToken);
            double rate = elements / clock.Elapsed.TotalSeconds;

            var histogram = new LongHistogram(60_000_000_000, 3);
            for (int i = 0; i < shortStreams / 10; i++)
            {
                await ReadAsync(client, 1, cancellationToken);
            }

            for (int i = 0; i < shortStreams; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                await ReadAsync(client, 1, cancellationToken);
                histogram.RecordValue((long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds);
            }

            rates[system] = rate;
            p50s[system] = histogram.GetValueAtPercentile(50);
            report.Results.Add(new Dictionary<string, object>
            {
                ["system"] = system,
                ["elements_per_s"] = Math.Round(rate),
                ["one_element_p50_ns"] = histogram.GetValueAtPercentile(50),
                ["one_element_p99_ns"] = histogram.GetValueAtPercentile(99),
                ["elements"] = elements,
                ["one_element_streams"] = shortStreams,
            });
        }

        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"rpal elements/s / grpc-dotnet-uds elements/s = {rates["rpal"] / Math.Max(1, rates["grpc-dotnet-uds"]):F1}x."));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"grpc-dotnet-uds one-element stream p50 / rpal p50 = {p50s["grpc-dotnet-uds"] / (double)Math.Max(1, p50s["rpal"]):F1}x."));
        report.Notes.Add("The client reads with await foreach on the thread pool (not pinned); the server process is pinned to its core; elements are 8-byte longs, flow-controlled (64 ahead).");
        return report;
    }

    /// <summary>Reads a stream of <paramref name="count"/> elements, checking each.</summary>
    private static async Task ReadAsync(IBenchService client, long count, CancellationToken cancellationToken)
    {
        long expected = 0;
        await foreach (long value in client.Count(count, cancellationToken).ConfigureAwait(false))
        {
            if (value != expected++)
            {
                throw new InvalidOperationException($"element {expected - 1} came as {value}");
            }
        }

        if (expected != count)
        {
            throw new InvalidOperationException($"{expected} elements of {count}");
        }
    }
}
