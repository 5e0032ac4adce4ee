using System.Text.Json;
using System.Text.RegularExpressions;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// The rpal tool (src/Rpal.Tool) against a real server process. The server, a client holding a
/// connection, and the tool share a runtime directory of their own, so the fixed service name of
/// the contract does not meet the other tests' servers.
/// </summary>
public sealed class ToolTests : IDisposable
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(1);
    private readonly string _dir = Directory.CreateTempSubdirectory("rpal-tool-").FullName; // 0700
    private readonly List<ServerProcess> _children = [];

    private Dictionary<string, string> Environment => new() { ["RPAL_RUNTIME_DIR"] = _dir };

    [Fact]
    public async Task List_ShowsEachLiveService_WithItsPidSlotBackendAndConnections()
    {
        ServerProcess server = await Start(ServiceNames.Shapes, ServiceNames.Status);
        ServerProcess client = ServerProcess.Launch(new ChildLaunch([], Environment), ["access-client", "--hold"]);
        _children.Add(client);
        await client.WaitForLineAsync("result 5", ServerProcess.StartTimeout);

        DotnetCli.Result list = await BenchProgram.RunToolAsync(["list"], s_limit, Environment);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Matches(@"^SERVICE\s+PID\s+SLOT\s+BACKEND\s+CONNECTIONS", list.Stdout);
        Assert.Matches(new Regex($@"^rpal\.test\.shapes\s+{server.Id}\s+\d+\s+user\s+1\s*$", RegexOptions.Multiline), list.Stdout);
        Assert.Matches(new Regex($@"^rpal\.test\.status\s+{server.Id}\s+\d+\s+user\s+0\s*$", RegexOptions.Multiline), list.Stdout);

        // once the server is gone its entries are stale, and said so
        client.Dispose();
        server.Dispose();
        list = await BenchProgram.RunToolAsync(["list"], s_limit, Environment);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("no live Rpal services", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 entries of services no longer served", list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ping_MakesRoundTrips_AndPrintsPercentiles()
    {
        ServerProcess server = await Start(ServiceNames.Shapes);
        DotnetCli.Result ping = await BenchProgram.RunToolAsync(["ping", ServiceNames.Shapes, "--count", "500"], s_limit, Environment);
        Assert.True(ping.ExitCode == 0, ping.ToString());
        Assert.Matches(
            $@"500 round trips to rpal\.test\.shapes \(pid {server.Id}\): min [\d.]+ us, p50 [\d.]+ us, p90 [\d.]+ us, p99 [\d.]+ us, max [\d.]+ us",
            ping.Stdout);
    }

    [Fact]
    public async Task Stats_PrintsTheServersSnapshot_WithCallsByMethodAndStatus()
    {
        ServerProcess server = await Start(ServiceNames.Shapes, ServiceNames.Status);
        using (JsonDocument first = await Stats(ServiceNames.Status))
        {
            Assert.Equal(server.Id, first.RootElement.GetProperty("pid").GetInt32());
            JsonElement[] services = [.. first.RootElement.GetProperty("services").EnumerateArray()];
            Assert.Equal([ServiceNames.Shapes, ServiceNames.Status], services.Select(s => s.GetProperty("name").GetString()).Order());
            JsonElement status = services.Single(s => s.GetProperty("name").GetString() == ServiceNames.Status);
            Assert.Equal(1, status.GetProperty("connections").GetInt32()); // the tool's own
            Assert.Equal(1, status.GetProperty("messages_received").GetInt64()); // its stats call
            Assert.Equal(0, status.GetProperty("messages_rejected").GetInt64());
            Assert.Equal(0, status.GetProperty("requests_queued").GetInt64());
            Assert.Empty(status.GetProperty("methods").EnumerateArray()); // counting starts with the first stats
        }

        // two clients call Add(2, 3) once each: counted from the first stats on
        for (int i = 0; i < 2; i++)
        {
            using ServerProcess client = ServerProcess.Launch(new ChildLaunch([], Environment), ["access-client"]);
            await client.WaitForLineAsync("result 5", ServerProcess.StartTimeout);
            Assert.Equal(0, await client.WaitForExitAsync(ServerProcess.EventTimeout));
        }

        using JsonDocument second = await Stats(ServiceNames.Shapes);
        DateTimeOffset since = second.RootElement.GetProperty("calls_counted_since").GetDateTimeOffset();
        Assert.InRange(since, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow);
        JsonElement shapes = second.RootElement.GetProperty("services").EnumerateArray()
            .Single(s => s.GetProperty("name").GetString() == ServiceNames.Shapes);
        JsonElement add = Assert.Single(shapes.GetProperty("methods").EnumerateArray());
        Assert.Equal("Add", add.GetProperty("name").GetString());
        Assert.Equal(2, add.GetProperty("calls").GetInt64());
        Assert.Equal(0, add.GetProperty("failed").GetInt64());
        Assert.Equal(2, add.GetProperty("status").GetProperty("OK").GetInt64());
        JsonElement duration = add.GetProperty("duration_us");
        double p50 = duration.GetProperty("p50").GetDouble(), max = duration.GetProperty("max").GetDouble();
        Assert.InRange(p50, 0.01, ServerProcess.EventTimeout.TotalMicroseconds);
        Assert.InRange(max, p50 / 1.05, ServerProcess.EventTimeout.TotalMicroseconds);
    }

    private async Task<JsonDocument> Stats(string service)
    {
        DotnetCli.Result stats = await BenchProgram.RunToolAsync(["stats", service], s_limit, Environment);
        Assert.True(stats.ExitCode == 0, stats.ToString());
        return JsonDocument.Parse(stats.Stdout[..(stats.Stdout.LastIndexOf('}') + 1)]);
    }

    [Fact]
    public async Task Errors_HaveClearMessages_AndExitCodes()
    {
        DotnetCli.Result missing = await BenchProgram.RunToolAsync(["ping", "rpal.test.nobody"], s_limit, Environment);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("no process serves 'rpal.test.nobody'", missing.Stderr, StringComparison.Ordinal);

        DotnetCli.Result noName = await BenchProgram.RunToolAsync(["stats"], s_limit, Environment);
        Assert.Equal(2, noName.ExitCode);
        Assert.Contains("which service?", noName.Stderr, StringComparison.Ordinal);

        DotnetCli.Result badCount = await BenchProgram.RunToolAsync(["ping", "x", "--count", "0"], s_limit, Environment);
        Assert.Equal(2, badCount.ExitCode);
        Assert.Contains("--count", badCount.Stderr, StringComparison.Ordinal);

        DotnetCli.Result unknown = await BenchProgram.RunToolAsync(["frobnicate"], s_limit, Environment);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("usage: rpal list", unknown.Stderr, StringComparison.Ordinal);

        DotnetCli.Result noRegistry = await BenchProgram.RunToolAsync(["list", "--runtime-dir", Path.Combine(_dir, "none")], s_limit);
        Assert.Equal(0, noRegistry.ExitCode);
        Assert.Contains("there is no registry", noRegistry.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_RunsTheBenchmarkSuite_ThatShipsWithTheTool()
    {
        DotnetCli.Result help = await BenchProgram.RunToolAsync(["bench", "--help"], s_limit, Environment);
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("seed", help.Stdout + help.Stderr, StringComparison.Ordinal);
        Assert.Contains("rtt", help.Stdout + help.Stderr, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (ServerProcess child in _children)
        {
            child.Dispose();
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<ServerProcess> Start(params string[] services)
    {
        ServerProcess server = await ServerProcess.StartAsync(new ChildLaunch([], Environment), services);
        _children.Add(server);
        return server;
    }
}
