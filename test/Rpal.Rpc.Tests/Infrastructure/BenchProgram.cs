using System.Reflection;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>
/// The programs built with the tests and run as child processes with the tests' runtime
/// directory and spin budget: the benchmark suite (bench/Rpal.Bench) and the rpal tool
/// (src/Rpal.Tool); killed, with their process tree, past a time limit.
/// </summary>
internal static class BenchProgram
{
    /// <summary>The path of Rpal.Bench.dll (written into this assembly by the build).</summary>
    public static string BenchPath { get; } = BuiltPath("RpalBench");

    /// <summary>The path of Rpal.Tool.dll (written into this assembly by the build).</summary>
    public static string ToolPath { get; } = BuiltPath("RpalTool");

    /// <summary>Runs <c>Rpal.Bench <paramref name="args"/></c> to its end; throws <see cref="TimeoutException"/> (with its output) past <paramref name="limit"/>.</summary>
    public static Task<DotnetCli.Result> RunAsync(IEnumerable<string> args, TimeSpan limit) =>
        DotnetCli.RunAsync(DotnetCli.Dotnet, [BenchPath, .. args], DotnetCli.RepositoryRoot, limit, TestEnvironment.ChildEnvironment);

    /// <summary>Runs <c>rpal <paramref name="args"/></c> with <paramref name="environment"/> over the tests' own.</summary>
    public static Task<DotnetCli.Result> RunToolAsync(IEnumerable<string> args, TimeSpan limit, IReadOnlyDictionary<string, string>? environment = null)
    {
        var env = new Dictionary<string, string>(TestEnvironment.ChildEnvironment);
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            env[name] = value;
        }

        return DotnetCli.RunAsync(DotnetCli.Dotnet, [ToolPath, .. args], DotnetCli.RepositoryRoot, limit, env);
    }

    private static string BuiltPath(string key) =>
        typeof(BenchProgram).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"the build did not record {key}'s path");
}
