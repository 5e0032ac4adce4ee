using System.Text.Json;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// The benchmark suite's quick mode, each scenario once: it must run and write its JSON. Timings
/// are not checked (that is what the full runs and docs/performance.md are for). Alone, as the
/// scenarios spin on both cores.
/// </summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class BenchSmokeTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(3);

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task AQuickRun_WritesItsResults(string scenario, string[] systems)
    {
        string json = Path.Combine(TestEnvironment.RuntimeDirectory, $"bench-{scenario}.json");
        DotnetCli.Result run = await BenchProgram.RunAsync([scenario, "--quick", "--json", json], s_limit);

        Assert.True(run.ExitCode == 0, $"{scenario} --quick exited with {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        using JsonDocument report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal(scenario, report.RootElement.GetProperty("scenario").GetString());
        string[] found = [.. report.RootElement.GetProperty("results").EnumerateArray()
            .Select(r => r.GetProperty("system").GetString()!).Distinct()];
        foreach (string system in systems)
        {
            Assert.Contains(system, found);
        }
    }

    [Fact]
    public async Task APacedRun_WritesARowPerSystemAndGap()
    {
        string json = Path.Combine(TestEnvironment.RuntimeDirectory, "bench-paced.json");
        DotnetCli.Result run = await BenchProgram.RunAsync(["paced", "--quick", "--gaps", "0,100", "--calls", "60", "--json", json], s_limit);

        Assert.True(run.ExitCode == 0, $"paced exited with {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("| transport | gap_us |", run.Stdout, StringComparison.Ordinal);
        using JsonDocument report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal("paced", report.RootElement.GetProperty("scenario").GetString());
        JsonElement[] rows = [.. report.RootElement.GetProperty("results").EnumerateArray()];
        string[] systems = ["rpal", "rpal-await", "rpal-await-nospin", "rpal-engine", "uds-epoll", "grpc-dotnet-uds", "grpc-dotnet-uds-await"];
        Assert.Equal(systems.Length * 2, rows.Length);
        foreach (string system in systems)
        {
            foreach (long gap in (long[])[0, 100])
            {
                JsonElement row = Assert.Single(rows, r => r.GetProperty("transport").GetString() == system && r.GetProperty("gap_us").GetInt64() == gap);
                Assert.Equal(60, row.GetProperty("calls").GetInt64());
                Assert.True(row.GetProperty("rtt_p50_us").GetDouble() > 0, $"{system} at {gap} us: no round trip");
                Assert.True(row.GetProperty("rtt_p99_us").GetDouble() >= row.GetProperty("rtt_p50_us").GetDouble());
                double client = row.GetProperty("cpu_client_us").GetDouble(), server = row.GetProperty("cpu_server_us").GetDouble();
                Assert.True(client > 0 && server > 0, $"{system} at {gap} us: CPU client {client}, server {server}");
                Assert.Equal(client + server, row.GetProperty("cpu_total_us").GetDouble(), 6);
                Assert.True(row.GetProperty("rtt_p50_vs_uds_epoll").GetDouble() > 0);
                Assert.True(row.GetProperty("cpu_total_vs_uds_epoll").GetDouble() > 0);
                if (system == "uds-epoll")
                {
                    Assert.Equal(1.0, row.GetProperty("cpu_total_vs_uds_epoll").GetDouble(), 9);
                }
            }
        }
    }

    public static TheoryData<string, string[]> Scenarios => new()
    {
        { "seed", ["floor", "epoll", "rpal"] },
        { "rtt", ["floor", "rpal", "rpal-await", "rpal-await-nospin", "rpal-engine", "uds-epoll", "grpc-dotnet-uds", "grpc-dotnet-uds-await"] },
        { "size", ["rpal-inline", "rpal", "memcpy"] },
        { "throughput", ["rpal"] },
        { "idle", ["rpal"] },
        { "stream", ["rpal", "grpc-dotnet-uds"] },
    };
}
