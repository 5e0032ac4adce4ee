using System.Diagnostics;
using System.Reflection;
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

    private static string BenchPath { get; } =
        typeof(BenchSmokeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "RpalBench").Value
        ?? throw new InvalidOperationException("the build did not record the bench's path");

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task AQuickRun_WritesItsResults(string scenario, string[] systems)
    {
        string json = Path.Combine(TestEnvironment.RuntimeDirectory, $"bench-{scenario}.json");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string a in (string[])[BenchPath, scenario, "--quick", "--json", json])
        {
            start.ArgumentList.Add(a);
        }

        foreach ((string name, string value) in TestEnvironment.ChildEnvironment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(s_limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{scenario} --quick ran past {s_limit}\n{await stderr}");
        }

        Assert.True(process.ExitCode == 0, $"{scenario} --quick exited with {process.ExitCode}\n{await stdout}\n{await stderr}");
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
        { "rtt", ["rpal", "rpal-engine", "uds-epoll", "grpc-dotnet-uds"] },
        { "size", ["rpal", "memcpy"] },
        { "throughput", ["rpal"] },
        { "idle", ["rpal"] },
    };
}
