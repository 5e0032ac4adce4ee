using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// The packages as a new user meets them: a brand-new console project that references only
/// <c>Rpal.Rpc</c> by version from a local folder feed builds (the generator comes from the
/// package), and its server and client processes call each other (librpal.so comes from the
/// Rpal.Runtime package). The restore uses a package cache of its own (NUGET_PACKAGES in the
/// class's temporary folder), so packages of the same version from an earlier run, or from a
/// different build of the repository, are never taken from the user's global cache, and none of
/// this run's are left there. The rpal tool installs from the same feed and runs. Alone: it
/// builds, which takes both cores.
/// </summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class PackageConsumerTests(PackedFeed feed) : IClassFixture<PackedFeed>
{
    private static readonly TimeSpan s_buildLimit = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan s_runLimit = TimeSpan.FromSeconds(60);

    // Rpal.Tool.linux-x64 measured 6.9 MB (0.1.0); with the SkiaSharp natives of every platform
    // the tool package was 78 MB.
    private const long ToolPackageLimit = 15_000_000;

    [Fact]
    public void ThePackages_CarryTheGeneratorTheEngineAndTheirMetadata()
    {
        using (ZipArchive rpc = ZipFile.OpenRead(feed.PackagePath("Rpal.Rpc")))
        {
            string[] entries = [.. rpc.Entries.Select(e => e.FullName)];
            Assert.Contains("lib/net10.0/Rpal.Rpc.dll", entries);
            Assert.Contains("analyzers/dotnet/cs/Rpal.Rpc.Generator.dll", entries);
            Assert.Contains("README.md", entries);
            XElement metadata = Metadata(rpc, "Rpal.Rpc.nuspec");
            Assert.Equal("MIT", Element(metadata, "license").Value);
            Assert.Equal("README.md", Element(metadata, "readme").Value);
            XElement[] dependencies = [.. metadata.Descendants().Where(e => e.Name.LocalName == "dependency")];
            Assert.Contains(dependencies, d => (string?)d.Attribute("id") == "Rpal.Runtime" && (string?)d.Attribute("version") == feed.Version);
            Assert.DoesNotContain(dependencies, d => ((string?)d.Attribute("id"))!.Contains("Generator", StringComparison.Ordinal));
        }

        using ZipArchive runtime = ZipFile.OpenRead(feed.PackagePath("Rpal.Runtime"));
        string[] runtimeEntries = [.. runtime.Entries.Select(e => e.FullName)];
        Assert.Contains("lib/net10.0/Rpal.Runtime.dll", runtimeEntries);
        Assert.Contains("runtimes/linux-x64/native/librpal.so", runtimeEntries);
        Assert.DoesNotContain(runtimeEntries, e => e.StartsWith("content", StringComparison.Ordinal));
        Assert.Equal("MIT", Element(Metadata(runtime, "Rpal.Runtime.nuspec"), "license").Value);
    }

    [Fact]
    public async Task ANewConsoleProject_BuildsFromThePackages_AndCallsAcrossProcesses()
    {
        string app = Directory.CreateDirectory(Path.Combine(feed.Root, "consumer")).FullName;
        WriteConsumer(app, feed.FeedDirectory, feed.Version);
        var buildEnvironment = new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = Path.Combine(feed.Root, "nuget-packages"),
        };

        DotnetCli.Result build = await DotnetCli.RunAsync(
            DotnetCli.Dotnet, ["build", "-c", "Release", "--disable-build-servers", "-nodeReuse:false"],
            app, s_buildLimit, buildEnvironment);
        Assert.True(build.ExitCode == 0, $"the consumer project did not build: {build}");

        string output = Path.Combine(app, "bin", "Release", "net10.0");
        Assert.True(File.Exists(Path.Combine(output, "runtimes", "linux-x64", "native", "librpal.so")),
            "librpal.so did not come with the Rpal.Runtime package");
        string dll = Path.Combine(output, "Consumer.dll");

        // A private runtime directory (0700, as the engine requires) that only these two share.
        string runtimeDirectory = Directory.CreateTempSubdirectory("rpal-consumer-run-").FullName;
        var runEnvironment = new Dictionary<string, string>
        {
            ["RPAL_RUNTIME_DIR"] = runtimeDirectory,
            ["RPAL_SPIN_NS"] = "20000",
            ["RPAL_LOG"] = "1",
        };
        try
        {
            using var server = Process.Start(DotnetCli.CreateStartInfo(DotnetCli.Dotnet, [dll, "server"], app, runEnvironment))!;
            try
            {
                Task<string> serverErrors = server.StandardError.ReadToEndAsync(); // drained, so its logging never blocks it
                Task<string?> ready = server.StandardOutput.ReadLineAsync();
                if (await Task.WhenAny(ready, Task.Delay(s_runLimit)) != ready || await ready != "ready")
                {
                    server.Kill(entireProcessTree: true);
                    await server.WaitForExitAsync();
                    Assert.Fail($"the consumer's server did not start: {(ready.IsCompleted ? await ready : "(nothing)")}\n{await serverErrors}");
                }

                DotnetCli.Result client = await DotnetCli.RunAsync(DotnetCli.Dotnet, [dll, "client"], app, s_runLimit, runEnvironment);
                Assert.True(client.ExitCode == 0, $"the consumer's client failed: {client}");
                Assert.Contains("Add(2, 3) = 5", client.Stdout, StringComparison.Ordinal);
                Assert.Contains($"Hello, Rpal, from process {server.Id}", client.Stdout, StringComparison.Ordinal);
            }
            finally
            {
                server.StandardInput.Close(); // the server stops when its stdin closes
                if (!server.WaitForExit(10_000))
                {
                    server.Kill(entireProcessTree: true);
                }
            }

            Assert.Equal(0, server.ExitCode);
        }
        finally
        {
            Directory.Delete(runtimeDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task TheTool_InstallsFromTheFeed_ForLinuxX64Only_AndRuns()
    {
        await feed.PackToolAsync();

        // Rpal.Tool only points at the RID-specific package, which carries the tool, the benchmark
        // suite and the natives of linux-x64, flattened next to them.
        using (ZipArchive pointer = ZipFile.OpenRead(feed.PackagePath("Rpal.Tool")))
        {
            Assert.DoesNotContain(pointer.Entries, e => e.FullName.EndsWith(".dll", StringComparison.Ordinal));
        }

        string ridPackage = feed.PackagePath("Rpal.Tool.linux-x64");
        long size = new FileInfo(ridPackage).Length;
        Assert.True(size < ToolPackageLimit, $"Rpal.Tool.linux-x64 is {size:N0} bytes, over {ToolPackageLimit:N0}");
        using (ZipArchive tool = ZipFile.OpenRead(ridPackage))
        {
            string[] entries = [.. tool.Entries.Select(e => e.FullName)];
            const string Dir = "tools/net10.0/linux-x64/";
            Assert.Contains(Dir + "Rpal.Tool.dll", entries);
            Assert.Contains(Dir + "Rpal.Bench.dll", entries);
            Assert.Contains(Dir + "librpal.so", entries);
            Assert.Contains(Dir + "libSkiaSharp.so", entries);
            Assert.DoesNotContain(entries, e => e.Contains("runtimes/", StringComparison.Ordinal)
                || e.Contains("win-", StringComparison.Ordinal) || e.Contains("osx", StringComparison.Ordinal)
                || e.EndsWith(".dylib", StringComparison.Ordinal)
                || (Path.GetFileName(e).StartsWith("lib", StringComparison.Ordinal) && e.EndsWith(".dll", StringComparison.Ordinal)));
        }

        string dir = Directory.CreateDirectory(Path.Combine(feed.Root, "tool")).FullName;
        WriteNuGetConfig(dir, feed.FeedDirectory, withNuGetOrg: false);
        string toolPath = Path.Combine(dir, "bin");
        DotnetCli.Result install = await DotnetCli.RunAsync(
            DotnetCli.Dotnet,
            ["tool", "install", "--tool-path", toolPath, "--configfile", Path.Combine(dir, "nuget.config"),
             "Rpal.Tool", "--version", feed.Version],
            dir, s_buildLimit, new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(feed.Root, "nuget-packages") });
        Assert.True(install.ExitCode == 0, $"the tool did not install: {install}");

        string rpal = Path.Combine(toolPath, "rpal");
        DotnetCli.Result help = await DotnetCli.RunAsync(rpal, ["--help"], dir, s_runLimit);
        Assert.True(help.ExitCode == 0, $"rpal --help: {help}");
        Assert.Contains("usage: rpal list", help.Stdout + help.Stderr, StringComparison.Ordinal);

        // An empty runtime directory of its own: list exits 0 with no services.
        string runtimeDirectory = Directory.CreateTempSubdirectory("rpal-tool-run-").FullName;
        try
        {
            DotnetCli.Result list = await DotnetCli.RunAsync(rpal, ["list", "--runtime-dir", runtimeDirectory], dir, s_runLimit);
            Assert.True(list.ExitCode == 0, $"rpal list: {list}");
        }
        finally
        {
            Directory.Delete(runtimeDirectory, recursive: true);
        }

        DotnetCli.Result benchHelp = await DotnetCli.RunAsync(rpal, ["bench", "--help"], dir, s_runLimit);
        Assert.True(benchHelp.ExitCode == 0, $"rpal bench --help: {benchHelp}");
        Assert.Contains("usage: rpal-bench", benchHelp.Stdout + benchHelp.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// A nuget.config that makes the folder feed the only source of Rpal.* (package source
    /// mapping); with <paramref name="withNuGetOrg"/>, everything else comes from nuget.org.
    /// </summary>
    private static void WriteNuGetConfig(string dir, string feedDirectory, bool withNuGetOrg)
    {
        string nuGetOrg = withNuGetOrg
            ? """<add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />"""
            : "";
        string nuGetOrgMapping = withNuGetOrg
            ? """<packageSource key="nuget.org"><package pattern="*" /></packageSource>"""
            : "";
        File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="rpal-local" value="{feedDirectory}" />
                {nuGetOrg}
              </packageSources>
              <packageSourceMapping>
                <packageSource key="rpal-local">
                  <package pattern="Rpal.*" />
                </packageSource>
                {nuGetOrgMapping}
              </packageSourceMapping>
            </configuration>
            """);
    }

    /// <summary>
    /// The consumer: what `dotnet new console` gives, plus one package reference, a nuget.config
    /// and an [RpalService] contract. The folder feed is the only source of Rpal.*; everything
    /// else (Grpc.Core.Api, Google.Protobuf, ...) comes from nuget.org, as for any user. An empty Directory.Build.props keeps the build from picking
    /// up a props file of a folder above the temporary directory.
    /// </summary>
    private static void WriteConsumer(string dir, string feedDirectory, string version)
    {
        File.WriteAllText(Path.Combine(dir, "Directory.Build.props"), "<Project />\n");
        WriteNuGetConfig(dir, feedDirectory, withNuGetOrg: true);
        File.WriteAllText(Path.Combine(dir, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Rpal.Rpc" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "IGreeter.cs"), """
            using Rpal.Rpc;

            namespace Consumer;

            [RpalService("consumer.greeter")]
            public interface IGreeter
            {
                int Add(int a, int b);

                ValueTask<string> GreetAsync(string name, CancellationToken cancellationToken = default);
            }

            public sealed class Greeter : IGreeter
            {
                public int Add(int a, int b) => a + b;

                public async ValueTask<string> GreetAsync(string name, CancellationToken cancellationToken = default)
                {
                    await Task.Yield();
                    return $"Hello, {name}, from process {Environment.ProcessId}";
                }
            }
            """);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), """
            using Consumer;
            using Rpal.Rpc;

            if (args is ["server"])
            {
                await using var server = new RpalServer();
                server.AddService<IGreeter>(new Greeter());
                await server.StartAsync();
                Console.WriteLine("ready");
                await Console.In.ReadLineAsync(); // runs until its stdin closes
                return 0;
            }

            await using RpalChannel channel = await RpalChannel.ConnectAsync("consumer.greeter");
            IGreeter greeter = channel.CreateClient<IGreeter>();
            Console.WriteLine($"Add(2, 3) = {greeter.Add(2, 3)}");
            Console.WriteLine(await greeter.GreetAsync("Rpal"));
            return 0;
            """);
    }

    private static XElement Metadata(ZipArchive package, string nuspec)
    {
        using Stream s = package.GetEntry(nuspec)!.Open();
        return Element(XDocument.Load(s).Root!, "metadata");
    }

    private static XElement Element(XElement parent, string localName) =>
        parent.Elements().Single(e => e.Name.LocalName == localName);
}
