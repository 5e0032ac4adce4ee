using System.Reflection;
using Xunit;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>
/// The repository's packages, packed once per test class into a fresh folder feed. They are
/// packed from what this test run built (its configuration, <c>--no-build</c>): the same
/// projects and pack settings as <c>dotnet pack Rpal.sln -c Release -o DIR</c>, without building
/// them a second time in another configuration.
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    private static readonly TimeSpan s_packLimit = TimeSpan.FromMinutes(3);

    /// <summary>A private folder for this class's files (feed, consumer project, package cache).</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("rpal-packages-").FullName;

    /// <summary>The folder feed holding Rpal.Runtime and Rpal.Rpc.</summary>
    public string FeedDirectory => Path.Combine(Root, "feed");

    /// <summary>The version the packages got (read off the Rpal.Rpc package's file name).</summary>
    public string Version { get; private set; } = "";

    /// <summary>The path of the package with id <paramref name="id"/>.</summary>
    public string PackagePath(string id) => Path.Combine(FeedDirectory, $"{id}.{Version}.nupkg");

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        string configuration = typeof(PackedFeed).Assembly
            .GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        foreach (string project in new[] { "src/Rpal.Runtime/Rpal.Runtime.csproj", "src/Rpal.Rpc/Rpal.Rpc.csproj" })
        {
            DotnetCli.Result pack = await DotnetCli.RunAsync(
                DotnetCli.Dotnet,
                ["pack", Path.Combine(DotnetCli.RepositoryRoot, project), "-c", configuration, "--no-build",
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
