using System.Text;
using Xunit;

namespace Rpal.Native.Tests;

/// <summary>
/// Builds the engine's libFuzzer targets (native/librpal/fuzz/fuzz_*.c, CMake option RPAL_FUZZ,
/// clang only) into artifacts/native/fuzz and runs each for a short fixed time on its seed
/// corpus (native/librpal/fuzz/corpus/&lt;name&gt;/). Passes when the fuzzer exits 0 (nothing
/// crashed, no invariant broke); skips only when clang or its libFuzzer runtime is missing.
/// </summary>
public sealed class FuzzTargetTests
{
    private const string Flavor = "fuzz";
    private const string NoTargets = "no-fuzz-targets";
    private const int RunSeconds = 10;
    private static readonly TimeSpan s_runTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan s_buildTimeout = TimeSpan.FromMinutes(10);
    private static readonly SemaphoreSlim s_buildLock = new(1, 1);
    private static BuildOutcome? s_build;

    /// <summary>Rows of (flavor "fuzz", target name, target source), one per fuzz/fuzz_*.c.</summary>
    public static TheoryData<string, string, string> Targets()
    {
        var data = new TheoryData<string, string, string>();
        string dir = Path.Combine(SourceDir, "fuzz");
        string[] sources = Directory.Exists(dir)
            ? Directory.GetFiles(dir, "fuzz_*.c").Order(StringComparer.Ordinal).ToArray()
            : [];
        if (sources.Length == 0)
        {
            data.Add(Flavor, NoTargets, "");
        }

        foreach (string source in sources)
        {
            data.Add(Flavor, Path.GetFileNameWithoutExtension(source), source);
        }

        return data;
    }

    /// <summary>Runs one fuzz target for <see cref="RunSeconds"/> seconds on its seed corpus.</summary>
    [NativeTestTheory]
    [MemberData(nameof(Targets))]
    public async Task Run(string flavor, string name, string source)
    {
        Assert.True(name != NoTargets, $"{Path.Combine(SourceDir, "fuzz")} holds no fuzz_*.c target.");
        string corpus = Path.Combine(SourceDir, "fuzz", "corpus", name["fuzz_".Length..]);
        Assert.True(Directory.Exists(corpus), $"{source} has no seed corpus at {corpus}.");

        BuildOutcome build = await BuildOnceAsync();
        Skip.If(build.SkipReason is not null, build.SkipReason);
        Assert.True(build.Failure is null, build.Failure);

        string program = Path.Combine(BuildDir, "bin", name);
        Assert.True(File.Exists(program), $"{program} was not built from {source}.");

        // New inputs go to the first corpus folder: a scratch one, never the repository's seeds.
        DirectoryInfo scratch = Directory.CreateTempSubdirectory("rpal-fuzz-");
        try
        {
            TestProgramResult result = await TestProgram.RunAsync(
                program,
                new Dictionary<string, string> { ["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0" },
                scratch.FullName,
                s_runTimeout,
                [$"-max_total_time={RunSeconds}", "-print_final_stats=1", "-artifact_prefix=" + scratch.FullName + "/",
                 scratch.FullName, corpus]);
            if (result.TimedOut || result.ExitCode != 0)
            {
                Assert.Fail(
                    $"{flavor}/{name} "
                    + (result.TimedOut ? $"did not finish within {s_runTimeout.TotalSeconds:0} s" : $"exited with code {result.ExitCode}")
                    + " (a crash or a broken invariant: the input is in the output below; rerun it with "
                    + $"{program} <input>).\n{Format(result)}");
            }
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    private static string SourceDir => Path.Combine(RepositoryRoot.Path, "native", "librpal");

    private static string BuildDir => Path.Combine(RepositoryRoot.Path, "artifacts", "native", Flavor);

    private sealed record BuildOutcome(string? SkipReason, string? Failure);

    private static async Task<BuildOutcome> BuildOnceAsync()
    {
        await s_buildLock.WaitAsync();
        try
        {
            return s_build ??= await BuildAsync();
        }
        finally
        {
            s_buildLock.Release();
        }
    }

    private static async Task<BuildOutcome> BuildAsync()
    {
        string? clang = FindClang();
        if (clang is null)
        {
            return new BuildOutcome(
                "clang was not found (RPAL_FUZZ_CC, clang, clang-NN on PATH); on Debian: apt-get install clang libclang-rt-14-dev",
                null);
        }

        // The libFuzzer runtime is a separate package on Debian (libclang-rt-NN-dev): probe it.
        DirectoryInfo probe = Directory.CreateTempSubdirectory("rpal-fuzz-probe-");
        try
        {
            string hello = Path.Combine(probe.FullName, "hello.c");
            await File.WriteAllTextAsync(
                hello,
                "#include <stddef.h>\n#include <stdint.h>\n"
                + "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n");
            TestProgramResult link = await TestProgram.RunAsync(
                clang, new Dictionary<string, string>(), probe.FullName, s_runTimeout,
                ["-fsanitize=fuzzer,address", hello, "-o", Path.Combine(probe.FullName, "hello")]);
            if (link.ExitCode != 0)
            {
                return new BuildOutcome(
                    $"{clang} cannot link -fsanitize=fuzzer (its libFuzzer runtime is missing; on Debian 12: "
                    + $"apt-get install libclang-rt-14-dev): {string.Join(' ', link.StandardError.TakeLast(2))}",
                    null);
            }
        }
        finally
        {
            probe.Delete(recursive: true);
        }

        var environment = new Dictionary<string, string>();
        if (!File.Exists(Path.Combine(BuildDir, "CMakeCache.txt")) || !File.Exists(Path.Combine(BuildDir, "build.ninja")))
        {
            TestProgramResult configure = await TestProgram.RunAsync(
                "cmake", environment, RepositoryRoot.Path, s_buildTimeout,
                ["-S", SourceDir, "-B", BuildDir, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                 "-DCMAKE_C_COMPILER=" + clang, "-DRPAL_SANITIZE=none", "-DRPAL_FUZZ=ON"]);
            if (configure.ExitCode != 0)
            {
                return new BuildOutcome(null, $"configuring {BuildDir} failed.\n{Format(configure)}");
            }
        }

        TestProgramResult build = await TestProgram.RunAsync(
            "cmake", environment, RepositoryRoot.Path, s_buildTimeout, ["--build", BuildDir, "--target", "fuzz"]);
        return build.ExitCode == 0
            ? new BuildOutcome(null, null)
            : new BuildOutcome(null, $"building the fuzz targets in {BuildDir} failed.\n{Format(build)}");
    }

    private static string? FindClang()
    {
        string? chosen = Environment.GetEnvironmentVariable("RPAL_FUZZ_CC");
        if (!string.IsNullOrEmpty(chosen))
        {
            return chosen;
        }

        string[] path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        IEnumerable<string> names = Enumerable.Range(14, 10).Reverse().Select(v => $"clang-{v}").Prepend("clang");
        foreach (string name in names)
        {
            foreach (string dir in path)
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static string Format(TestProgramResult result)
    {
        // libFuzzer's report (and its final stats) are on stderr; the end is where the failure is.
        const int MaxLines = 200;
        var text = new StringBuilder();
        foreach ((string stream, IReadOnlyList<string> lines) in new[] { ("stdout", result.StandardOutput), ("stderr", result.StandardError) })
        {
            text.Append("--- ").Append(stream).Append(" ---\n");
            foreach (string line in lines.Skip(Math.Max(0, lines.Count - MaxLines)))
            {
                text.Append(line).Append('\n');
            }
        }

        return text.ToString();
    }
}
