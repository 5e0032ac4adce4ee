using System.Text.Json;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// The bench's soak command in its short version (CI's): eight client processes make their
/// checked calls to one server process, and every call must arrive exactly once and come back to
/// the call that made it. Alone, as the soak's nine processes fill both cores.
/// </summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class SoakTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task AQuickSoak_LosesDuplicatesAndMisroutesNoCall()
    {
        string json = Path.Combine(TestEnvironment.RuntimeDirectory, "bench-soak.json");
        DotnetCli.Result run = await BenchProgram.RunAsync(["soak", "--quick", "--json", json], s_limit);

        Assert.True(run.ExitCode == 0, $"soak --quick exited with {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        using JsonDocument report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal("soak", report.RootElement.GetProperty("scenario").GetString());
        JsonElement total = report.RootElement.GetProperty("results").EnumerateArray()
            .Single(r => r.GetProperty("system").GetString() == "rpal");
        Assert.Equal(8, total.GetProperty("clients").GetInt32());
        Assert.True(total.GetProperty("calls").GetInt64() > 0);
        Assert.Equal(total.GetProperty("calls").GetInt64(), total.GetProperty("completed").GetInt64());
        Assert.Equal(0, total.GetProperty("lost").GetInt64());
        Assert.Equal(0, total.GetProperty("duplicated").GetInt64());
        Assert.Equal(0, total.GetProperty("misrouted").GetInt64());
        Assert.Equal(0, total.GetProperty("failed").GetInt64());
    }
}
