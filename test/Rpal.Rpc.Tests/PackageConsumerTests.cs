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
/// this run's are left there. Alone: it builds, which takes both cores.
/// </summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class PackageConsumerTests(PackedFeed feed) : IClassFixture<PackedFeed>
{
    private static readonly TimeSpan s_buildLimit = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan s_runLimit = TimeSpan.FromSeconds(60);

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

    /// <summary>
    /// The consumer: what `dotnet new console` gives, plus one package reference, a nuget.config
    /// and an [RpalService] contract. The folder feed is the only source of Rpal.* (package
    /// source mapping); everything else (Grpc.Core.Api, Google.Protobuf, ...) comes from
    /// nuget.org, as for any user. An empty Directory.Build.props keeps the build from picking
    /// up a props file of a folder above the temporary directory.
    /// </summary>
    private static void WriteConsumer(string dir, string feedDirectory, string version)
    {
        File.WriteAllText(Path.Combine(dir, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="rpal-local" value="{feedDirectory}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="rpal-local">
                  <package pattern="Rpal.*" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
            </configuration>
            """);
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
