using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// Native AOT: examples/Quickstart (PublishAot=true in its project) publishes for linux-x64 with no
/// trim or AOT warning (the project makes them errors; the test also looks for any that got
/// through), and the native binary runs its client, which starts the same binary as its server.
/// Alone: the native compilation takes both cores for a minute or more.
/// </summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class AotPublishTests
{
    private static readonly TimeSpan s_publishLimit = TimeSpan.FromMinutes(8);
    private static readonly TimeSpan s_runLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TheQuickstart_PublishesAsNativeAot_WithoutWarnings_AndRuns()
    {
        string output = Directory.CreateTempSubdirectory("rpal-aot-quickstart-").FullName;
        string runtimeDirectory = Directory.CreateTempSubdirectory("rpal-aot-run-").FullName;
        try
        {
            DotnetCli.Result publish = await DotnetCli.RunAsync(
                DotnetCli.Dotnet,
                ["publish", Path.Combine(DotnetCli.RepositoryRoot, "examples", "Quickstart", "Quickstart.csproj"),
                 "-c", "Release", "-r", "linux-x64", "-o", output, "--disable-build-servers", "-nodeReuse:false"],
                DotnetCli.RepositoryRoot, s_publishLimit);
            Assert.True(publish.ExitCode == 0, $"the Native AOT publish failed: {publish}");
            Assert.DoesNotMatch(@"warning (IL\d+|AOT\d+)", publish.Stdout);

            string binary = Path.Combine(output, "Quickstart");
            Assert.True(File.Exists(binary), $"no native binary at {binary}");
            Assert.False(File.Exists(Path.Combine(output, "Quickstart.dll")), "the publish is not a native one");
            Assert.True(File.Exists(Path.Combine(output, "librpal.so")), "librpal.so is not beside the binary");

            DotnetCli.Result run = await DotnetCli.RunAsync(
                binary, ["--iterations", "1000"], output, s_runLimit,
                new Dictionary<string, string>
                {
                    ["RPAL_RUNTIME_DIR"] = runtimeDirectory,
                    ["RPAL_SPIN_NS"] = "20000",
                    ["RPAL_LOG"] = "1",
                });
            Assert.True(run.ExitCode == 0, $"the native Quickstart failed: {run}");
            Assert.Contains("calc.Add(2, 3) = 5", run.Stdout, StringComparison.Ordinal);
            Assert.Contains("await calc.GreetAsync(\"Rpal\") = Hello, Rpal, from process", run.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
            Directory.Delete(runtimeDirectory, recursive: true);
        }
    }
}
