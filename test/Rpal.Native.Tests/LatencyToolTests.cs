using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace Rpal.Native.Tests;

/// <summary>
/// The seed's experiment, <c>rpal-latency</c> (examples/latency/), run for real (client and server
/// in two processes) but short: its output keeps the shape that scripts and the .NET benchmark read.
/// These check rows, names and counts, never timings: a timing belongs to a benchmark.
/// </summary>
public sealed class LatencyToolTests
{
    private const string Flavor = "release";
    private const int UsageErrorExitCode = 2;
    // A few thousand messages per run and a few hundred paced calls take well under a second;
    // the tool's own waits give up after 10 s.
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(120);

    private static readonly Regex s_firstLine = new(
        @"^(?<run>FLOOR|EPOLL|RPAL): Message length: 32 bytes, Total TSC cycles: -?\d+, "
        + @"Message count: (?<count>\d+), Average latency: -?\d+ cycles$");

    private static readonly Regex s_percentileLine = new(
        @"^(?<run>FLOOR|EPOLL|RPAL): p50: -?\d+, p90: -?\d+, p99: -?\d+, p99\.9: -?\d+, max: -?\d+ cycles$");

    private static readonly string[] s_pacedFields =
        ["transport", "gap_us", "calls", "rtt_p50_us", "rtt_p99_us", "cpu_client_us", "cpu_server_us", "cpu_total_us"];

    /// <summary>rpal-latency in the release build, where native/librpal's CMake build puts it.</summary>
    private static string ProgramPath =>
        Path.Combine(RepositoryRoot.Path, "artifacts", "native", Flavor, "bin", "rpal-latency");

    /// <summary>
    /// By default every run states its distance from the physical limit: FLOOR, EPOLL and RPAL in
    /// that order, each in the seed's two-line format, then both ratios.
    /// </summary>
    [Fact]
    public async Task DefaultRuns_AreFloorEpollRpal_InTheSeedsFormat_WithBothRatios()
    {
        TestProgramResult result = await RunAsync(["--floor", "--messages", "2000"]);

        string[] lines = Results(result);
        Assert.Equal(["FLOOR", "FLOOR", "EPOLL", "EPOLL", "RPAL", "RPAL"], lines.Take(6).Select(RunName));
        AssertRun(lines, 0, "FLOOR", 2000);
        AssertRun(lines, 2, "EPOLL", 2000);
        AssertRun(lines, 4, "RPAL", 2000);
        Assert.Matches(@"^RPAL/EPOLL average ratio: 1:\d+\.\d$", lines[6]);
        Assert.Matches(@"^RPAL/FLOOR p50 ratio: \d+\.\d$", lines[7]);
        Assert.Equal(8, lines.Length);

        // FLOOR and RPAL took turns in 10 blocks; the ratio printed is the median of theirs
        string blocks = Assert.Single(result.StandardOutput, line => line.StartsWith("# RPAL/FLOOR p50 ratio of each block", StringComparison.Ordinal));
        Match m = Regex.Match(blocks, @"in 10 blocks of about 200 messages.*:((?: \d+\.\d\d){10}); the ratio below is their median$");
        Assert.True(m.Success, blocks);
        double[] ratios = [.. m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).Order()];
        double median = (ratios[4] + ratios[5]) / 2; // of the ratios as printed, rounded to 0.01
        double printed = double.Parse(lines[7]["RPAL/FLOOR p50 ratio: ".Length..], CultureInfo.InvariantCulture);
        Assert.InRange(printed, median - 0.06, median + 0.06);
    }

    /// <summary>--floor-only runs FLOOR alone: its two lines and no ratio.</summary>
    [Fact]
    public async Task FloorOnly_ReportsTheFloorAlone()
    {
        TestProgramResult result = await RunAsync(["--floor-only", "--messages", "2000"]);

        string[] lines = Results(result);
        Assert.Equal(2, lines.Length);
        AssertRun(lines, 0, "FLOOR", 2000);
    }

    /// <summary>
    /// Paced mode prints one PACED row per (transport, gap), EPOLL's gaps then RPAL's, under a '#'
    /// header naming the columns, and --json writes the same rows with the same names.
    /// </summary>
    [Fact]
    public async Task Paced_WritesOneRowPerTransportAndGap_ToStdoutAndJson()
    {
        DirectoryInfo scratch = Directory.CreateTempSubdirectory("rpal-latency-test-");
        try
        {
            string json = Path.Combine(scratch.FullName, "paced.json");
            TestProgramResult result = await RunAsync(
                ["--gap-us", "0,100", "--calls", "200", "--json", json], scratch.FullName);

            Assert.Contains(
                "# PACED: " + string.Join(' ', s_pacedFields),
                result.StandardOutput.Select(line => Regex.Replace(line, " +", " ")));
            PacedRow[] rows = result.StandardOutput
                .Where(line => line.StartsWith("PACED:", StringComparison.Ordinal))
                .Select(PacedRow.Parse)
                .ToArray();
            Assert.Equal(
                [("EPOLL", 0), ("EPOLL", 100), ("RPAL", 0), ("RPAL", 100)],
                rows.Select(row => (row.Transport, row.GapUs)));
            foreach (PacedRow row in rows)
            {
                Assert.Equal(200, row.Calls);
                Assert.All(row.Values, value => Assert.True(value >= 0 && double.IsFinite(value), $"{row}"));
                Assert.True(Math.Abs(row.CpuClientUs + row.CpuServerUs - row.CpuTotalUs) <= 0.002, $"{row}");
            }

            using JsonDocument document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            PacedRow[] written = document.RootElement.EnumerateArray().Select(PacedRow.FromJson).ToArray();
            Assert.Equal(rows, written);

            // by default the calls of a gap are shared among 4 rounds of EPOLL and RPAL in turn
            Assert.Contains(result.StandardOutput, line => line.StartsWith("# 4 rounds: each round runs every gap on EPOLL and on RPAL", StringComparison.Ordinal));
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>A gap list that is not one is a usage error (exit 2) that names --gap-us.</summary>
    [Theory]
    [InlineData("0,,5")]
    [InlineData("5,")]
    [InlineData("abc")]
    [InlineData("0,100001")]
    [InlineData("")]
    public async Task BadGapList_IsAUsageError(string gaps)
    {
        TestProgramResult result = await RunAsync(["--gap-us", gaps], expectedExitCode: UsageErrorExitCode);

        Assert.Contains(result.StandardError, line => line.Contains("--gap-us wants", StringComparison.Ordinal));
    }

    /// <summary>
    /// --rounds N shares each gap's calls among N rounds (a row still counts them all, rounded up to
    /// a multiple of N); it goes with --gap-us only, and from 1 to 100.
    /// </summary>
    [Fact]
    public async Task Rounds_ShareTheCallsOfAGap_AndAreCheckedAsUsage()
    {
        TestProgramResult result = await RunAsync(["--rpal-only", "--gap-us", "0", "--calls", "100", "--rounds", "3"]);
        PacedRow row = Assert.Single(result.StandardOutput.Where(line => line.StartsWith("PACED:", StringComparison.Ordinal)).Select(PacedRow.Parse));
        Assert.Equal(("RPAL", 0, 102L), (row.Transport, row.GapUs, row.Calls));
        Assert.Contains(result.StandardOutput, line => line.StartsWith("# 3 rounds of every gap", StringComparison.Ordinal));

        TestProgramResult zero = await RunAsync(["--gap-us", "0", "--rounds", "0"], expectedExitCode: UsageErrorExitCode);
        Assert.Contains(zero.StandardError, line => line.Contains("--rounds wants a count from 1 to 100", StringComparison.Ordinal));
        TestProgramResult latency = await RunAsync(["--rounds", "2"], expectedExitCode: UsageErrorExitCode);
        Assert.Contains(latency.StandardError, line => line.Contains("--rounds goes with --gap-us", StringComparison.Ordinal));
    }

    private static async Task<TestProgramResult> RunAsync(
        IReadOnlyList<string> arguments, string? workingDirectory = null, int expectedExitCode = 0)
    {
        Assert.True(
            File.Exists(ProgramPath),
            $"{ProgramPath} is missing: build Rpal.Runtime (it builds native/librpal, flavor '{Flavor}').");

        // A private runtime directory, as for the C tests: the RPAL run registers a service.
        DirectoryInfo runtimeDir = Directory.CreateTempSubdirectory("rpal-test-");
        try
        {
            TestProgramResult result = await TestProgram.RunAsync(
                ProgramPath,
                TestProgram.NativeTestEnvironment(runtimeDir.FullName),
                workingDirectory ?? runtimeDir.FullName,
                s_timeout,
                arguments);
            Assert.False(result.TimedOut, $"rpal-latency did not finish within {s_timeout.TotalSeconds:0} s.\n{result.FormatOutput()}");
            Assert.True(
                result.ExitCode == expectedExitCode,
                $"rpal-latency {string.Join(' ', arguments)} exited with {result.ExitCode}, expected {expectedExitCode}.\n{result.FormatOutput()}");
            return result;
        }
        finally
        {
            runtimeDir.Delete(recursive: true);
        }
    }

    /// <summary>The result lines: every stdout line but the '#' notes.</summary>
    private static string[] Results(TestProgramResult result) =>
        result.StandardOutput.Where(line => !line.StartsWith('#')).ToArray();

    private static string RunName(string line) => line[..Math.Max(0, line.IndexOf(':', StringComparison.Ordinal))];

    private static void AssertRun(string[] lines, int first, string run, long count)
    {
        Match head = s_firstLine.Match(lines[first]);
        Assert.True(head.Success, $"not the seed's first line of a run: '{lines[first]}'");
        Assert.Equal(run, head.Groups["run"].Value);
        Assert.Equal(count, long.Parse(head.Groups["count"].Value, CultureInfo.InvariantCulture));
        Match percentiles = s_percentileLine.Match(lines[first + 1]);
        Assert.True(percentiles.Success, $"not a percentile line: '{lines[first + 1]}'");
        Assert.Equal(run, percentiles.Groups["run"].Value);
    }

    /// <summary>One row of the paced table, from stdout or from the JSON file.</summary>
    private sealed record PacedRow(
        string Transport,
        long GapUs,
        long Calls,
        double RttP50Us,
        double RttP99Us,
        double CpuClientUs,
        double CpuServerUs,
        double CpuTotalUs)
    {
        public IEnumerable<double> Values => [RttP50Us, RttP99Us, CpuClientUs, CpuServerUs, CpuTotalUs];

        /// <summary>"PACED: transport gap_us calls rtt_p50_us ..." split on blanks.</summary>
        public static PacedRow Parse(string line)
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(f.Length == 9, $"a PACED row has 8 fields: '{line}'");
            return new PacedRow(
                f[1],
                long.Parse(f[2], CultureInfo.InvariantCulture),
                long.Parse(f[3], CultureInfo.InvariantCulture),
                double.Parse(f[4], CultureInfo.InvariantCulture),
                double.Parse(f[5], CultureInfo.InvariantCulture),
                double.Parse(f[6], CultureInfo.InvariantCulture),
                double.Parse(f[7], CultureInfo.InvariantCulture),
                double.Parse(f[8], CultureInfo.InvariantCulture));
        }

        public static PacedRow FromJson(JsonElement row)
        {
            Assert.Equal(s_pacedFields, row.EnumerateObject().Select(property => property.Name));
            return new PacedRow(
                row.GetProperty("transport").GetString() ?? "",
                row.GetProperty("gap_us").GetInt64(),
                row.GetProperty("calls").GetInt64(),
                row.GetProperty("rtt_p50_us").GetDouble(),
                row.GetProperty("rtt_p99_us").GetDouble(),
                row.GetProperty("cpu_client_us").GetDouble(),
                row.GetProperty("cpu_server_us").GetDouble(),
                row.GetProperty("cpu_total_us").GetDouble());
        }
    }
}
