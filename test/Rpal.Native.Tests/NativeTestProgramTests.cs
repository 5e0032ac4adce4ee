using Xunit;

namespace Rpal.Native.Tests;

/// <summary>
/// Runs every C test program of the engine (artifacts/native/&lt;flavor&gt;/tests.txt, written by
/// native/librpal's CMake build) as its own test case: exit 0 passes, 77 skips, anything else
/// fails with the program's output.
/// </summary>
public sealed class NativeTestProgramTests
{
    private const int SkipExitCode = 77;
    private const string BuildDidNotRun = "native-build-missing";
    private const string NoTestsListed = "no-tests-listed";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(120);
    private static readonly string[] s_flavors = ["release", "asan", "tsan"];

    /// <summary>Rows of (flavor, test name, absolute program path), one per listed program.</summary>
    public static TheoryData<string, string, string> Programs()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string flavor in s_flavors)
        {
            string list = TestListPath(flavor);
            if (!File.Exists(list))
            {
                data.Add(flavor, BuildDidNotRun, "");
                continue;
            }

            string[] programs = File.ReadAllLines(list)
                .Select(line => line.Trim())
                .Where(line => line.Length > 0)
                .ToArray();
            if (programs.Length == 0)
            {
                data.Add(flavor, NoTestsListed, "");
            }

            foreach (string program in programs)
            {
                data.Add(flavor, Path.GetFileName(program), program);
            }
        }

        return data;
    }

    /// <summary>Runs one C test program under its flavor's sanitizer settings.</summary>
    [NativeTestTheory]
    [MemberData(nameof(Programs))]
    public async Task Run(string flavor, string name, string program)
    {
        if (name == BuildDidNotRun)
        {
            Assert.Fail(
                $"{TestListPath(flavor)} is missing: the native build of flavor '{flavor}' did not run. "
                + "Build Rpal.Runtime (dotnet build at the repository root) without RpalNativeSkip=true "
                + "and with this flavor in RpalNativeFlavors.");
        }

        if (name == NoTestsListed)
        {
            Assert.Fail($"{TestListPath(flavor)} lists no test programs.");
        }

        Assert.True(File.Exists(program), $"{program} (listed in {TestListPath(flavor)}) does not exist.");

        // A fresh per-test runtime directory; CreateTempSubdirectory makes it mode 0700 (mkdtemp).
        DirectoryInfo runtimeDir = Directory.CreateTempSubdirectory("rpal-test-");
        try
        {
            IReadOnlyDictionary<string, string> environment = TestProgram.NativeTestEnvironment(runtimeDir.FullName);

            TestProgramResult result = await TestProgram.RunAsync(
                program, environment, runtimeDir.FullName, s_timeout);

            if (result.TimedOut)
            {
                Assert.Fail(
                    $"{flavor}/{name} did not finish within {s_timeout.TotalSeconds:0} s and was killed"
                    + (result.ExitCode >= 0
                        ? $" (it exited with code {result.ExitCode}, but a process it started kept its output open)"
                        : "")
                    + $".\n{result.FormatOutput()}");
            }

            // test_util.h's test_skip() prints "skip: <why>" to stdout before exit(77).
            Skip.If(
                result.ExitCode == SkipExitCode,
                result.LastLine() ?? $"{name} exited with 77 (skip)");

            if (result.ExitCode != 0)
            {
                Assert.Fail($"{flavor}/{name} exited with code {result.ExitCode}.\n{result.FormatOutput()}");
            }
        }
        finally
        {
            runtimeDir.Delete(recursive: true);
        }
    }

    /// <summary>artifacts/native/&lt;flavor&gt;/tests.txt: the flavor's test programs, one path a line.</summary>
    internal static string TestListPath(string flavor) =>
        Path.Combine(RepositoryRoot.Path, "artifacts", "native", flavor, "tests.txt");
}
