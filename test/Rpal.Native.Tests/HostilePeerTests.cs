using Xunit;

namespace Rpal.Native.Tests;

/// <summary>
/// Hostile peers, one test per case of the engine's C test program test_hostile
/// (native/librpal/tests/test_hostile.c): a server keeps serving a well-behaved client while a
/// peer that completed (or fakes) the handshake misbehaves in one way, and only the offending
/// connection or call may fail, with the documented error and a logged reason. The cases are
/// what the release build's <c>test_hostile --list</c> prints; each runs alone
/// (<c>RPAL_HOSTILE_CASE=name</c>) in a fresh process and runtime directory. The whole program,
/// under every sanitizer flavor, is <see cref="NativeTestProgramTests"/>' business.
/// </summary>
public sealed class HostilePeerTests
{
    private const string Flavor = "release";
    private const string ProgramName = "test_hostile";
    private const int SkipExitCode = 77;
    private const string BuildDidNotRun = "native-build-missing";
    private const string NotListed = "test_hostile-not-listed";
    private const string ListFailed = "test_hostile-list-failed";
    private const string NoCases = "no-cases-listed";
    private static readonly TimeSpan s_listTimeout = TimeSpan.FromSeconds(30);
    // Each case takes well under a second but the flood (its silent connections wait out 500 ms
    // receive timeouts); the program's own watchdog fails a stuck case after 30 s.
    private static readonly TimeSpan s_caseTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Rows of (flavor, case name, program path), one per case test_hostile lists.</summary>
    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        string list = NativeTestProgramTests.TestListPath(Flavor);
        if (!File.Exists(list))
        {
            data.Add(Flavor, BuildDidNotRun, "");
            return data;
        }

        string? program = File.ReadAllLines(list)
            .Select(line => line.Trim())
            .FirstOrDefault(line => Path.GetFileName(line) == ProgramName);
        if (program is null || !File.Exists(program))
        {
            data.Add(Flavor, NotListed, program ?? "");
            return data;
        }

        // --list starts no server and no child: it prints the names and exits.
        TestProgramResult result = TestProgram
            .RunAsync(program, new Dictionary<string, string>(), Path.GetTempPath(), s_listTimeout, ["--list"])
            .GetAwaiter()
            .GetResult();
        if (result.TimedOut || result.ExitCode != 0)
        {
            data.Add(Flavor, ListFailed, program);
            return data;
        }

        string[] cases = result.StandardOutput
            .Select(line => line.Trim())
            .Where(line => line.Length > 0)
            .ToArray();
        if (cases.Length == 0)
        {
            data.Add(Flavor, NoCases, program);
        }

        foreach (string name in cases)
        {
            data.Add(Flavor, name, program);
        }

        return data;
    }

    /// <summary>Runs one hostile-peer case: exit 0 passes, 77 skips, anything else fails.</summary>
    [NativeTestTheory]
    [MemberData(nameof(Cases))]
    public async Task Run(string flavor, string name, string program)
    {
        string list = NativeTestProgramTests.TestListPath(flavor);
        switch (name)
        {
            case BuildDidNotRun:
                Assert.Fail(
                    $"{list} is missing: the native build of flavor '{flavor}' did not run. "
                    + "Build Rpal.Runtime (dotnet build at the repository root) without RpalNativeSkip=true.");
                break;
            case NotListed:
                Assert.Fail($"{list} lists no existing {ProgramName} ('{program}').");
                break;
            case ListFailed:
                TestProgramResult listed = await TestProgram.RunAsync(
                    program, new Dictionary<string, string>(), Path.GetTempPath(), s_listTimeout, ["--list"]);
                Assert.Fail($"{program} --list exited with code {listed.ExitCode}.\n{listed.FormatOutput()}");
                break;
            case NoCases:
                Assert.Fail($"{program} --list printed no case.");
                break;
        }

        DirectoryInfo runtimeDir = Directory.CreateTempSubdirectory("rpal-test-");
        try
        {
            var environment = new Dictionary<string, string>(TestProgram.NativeTestEnvironment(runtimeDir.FullName))
            {
                ["RPAL_HOSTILE_CASE"] = name,
            };
            TestProgramResult result = await TestProgram.RunAsync(
                program, environment, runtimeDir.FullName, s_caseTimeout);

            if (result.TimedOut)
            {
                Assert.Fail(
                    $"{ProgramName} case {name} did not finish within {s_caseTimeout.TotalSeconds:0} s and was killed.\n"
                    + result.FormatOutput());
            }

            Skip.If(result.ExitCode == SkipExitCode, result.LastLine() ?? $"{name} exited with 77 (skip)");

            if (result.ExitCode != 0)
            {
                Assert.Fail($"{ProgramName} case {name} exited with code {result.ExitCode}.\n{result.FormatOutput()}");
            }
        }
        finally
        {
            runtimeDir.Delete(recursive: true);
        }
    }
}
