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

    public static TheoryData<string, string[]> Scenarios => new()
    {
        { "seed", ["epoll", "rpal"] },
        { "rtt", ["rpal", "rpal-await", "rpal-await-nospin", "rpal-engine", "uds-epoll", "grpc-dotnet-uds", "grpc-dotnet-uds-await"] },
        { "size", ["rpal", "memcpy"] },
        { "throughput", ["rpal"] },
        { "idle", ["rpal"] },
        { "stream", ["rpal", "grpc-dotnet-uds"] },
    };
}
