using System.Reflection;
using Xunit;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>
/// The repository's packages, packed once per test class into a fresh folder feed. They are
/// packed from what this test run built (its configuration, <c>--no-build</c>): the same
/// projects and pack settings as <c>dotnet pack Rpal.sln -c Release -o DIR</c>, without building
/// them a second time in another configuration. The tool packs on demand (<see cref="PackToolAsync"/>),
/// into the same feed, for the tests that install it.
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    private static readonly TimeSpan s_packLimit = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan s_toolPackLimit = TimeSpan.FromMinutes(5);

    private readonly Lazy<Task> _toolPack;

    /// <summary>A feed whose tool is not packed yet.</summary>
    public PackedFeed() => _toolPack = new Lazy<Task>(PackToolCoreAsync);

    /// <summary>A private folder for this class's files (feed, consumer project, package cache).</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("rpal-packages-").FullName;

    /// <summary>The folder feed holding Rpal.Runtime and Rpal.Rpc.</summary>
    public string FeedDirectory => Path.Combine(Root, "feed");

    /// <summary>The version the packages got (read off the Rpal.Rpc package's file name).</summary>
    public string Version { get; private set; } = "";

    /// <summary>The path of the package with id <paramref name="id"/>.</summary>
    public string PackagePath(string id) => Path.Combine(FeedDirectory, $"{id}.{Version}.nupkg");

    private static string Configuration { get; } = typeof(PackedFeed).Assembly
        .GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>
    /// Packs src/Rpal.Tool into the feed, once: <c>Rpal.Tool</c> (which points at the RID-specific
    /// package) and <c>Rpal.Tool.linux-x64</c> (the tool and the benchmark suite).
    /// </summary>
    public Task PackToolAsync() => _toolPack.Value;

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        foreach (string project in new[] { "src/Rpal.Runtime/Rpal.Runtime.csproj", "src/Rpal.Rpc/Rpal.Rpc.csproj" })
        {
            DotnetCli.Result pack = await DotnetCli.RunAsync(
                DotnetCli.Dotnet,
                ["pack", Path.Combine(DotnetCli.RepositoryRoot, project), "-c", Configuration, "--no-build",
                 "-o", FeedDirectory, "--disable-build-servers", "-nodeReuse:false"],
                DotnetCli.RepositoryRoot, s_packLimit);
            if (pack.ExitCode != 0)
            {
                throw new InvalidOperationException($"dotnet pack {project} failed: {pack}");
            }
        }

        string rpc = Directory.GetFiles(FeedDirectory, "Rpal.Rpc.*.nupkg").Single();
        Version = Path.GetFileNameWithoutExtension(rpc)["Rpal.Rpc.".Length..];
    }

    /// <summary>
    /// Not --no-build, unlike the libraries: the package holds a build for linux-x64
    /// (RuntimeIdentifier set), which the test run's own build of the tool is not. That build
    /// goes to its own folders (bin/CONFIG/net10.0/linux-x64/), beside the test run's.
    /// </summary>
    private async Task PackToolCoreAsync()
    {
        DotnetCli.Result pack = await DotnetCli.RunAsync(
            DotnetCli.Dotnet,
            ["pack", Path.Combine(DotnetCli.RepositoryRoot, "src/Rpal.Tool/Rpal.Tool.csproj"), "-c", Configuration,
             "-o", FeedDirectory, "--disable-build-servers", "-nodeReuse:false"],
            DotnetCli.RepositoryRoot, s_toolPackLimit);
        if (pack.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet pack src/Rpal.Tool failed: {pack}");
        }
    }

    /// <inheritdoc/>
    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return Task.CompletedTask;
    }
}
