using System.Diagnostics;
using System.Reflection;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>
/// The benchmark suite (bench/Rpal.Bench, built with the tests) run as a child process with the
/// tests' runtime directory and spin budget; killed, with its process tree, past a time limit.
/// </summary>
internal static class BenchProgram
{
    /// <summary>The path of Rpal.Bench.dll (written into this assembly by the build).</summary>
    public static string BenchPath { get; } =
        typeof(BenchProgram).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "RpalBench").Value
        ?? throw new InvalidOperationException("the build did not record the bench's path");

    /// <summary>Runs <c>Rpal.Bench <paramref name="args"/></c> to its end; throws <see cref="TimeoutException"/> (with its stderr) past <paramref name="limit"/>.</summary>
    public static async Task<Result> RunAsync(IEnumerable<string> args, TimeSpan limit)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(BenchPath);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach ((string name, string value) in TestEnvironment.ChildEnvironment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{string.Join(' ', start.ArgumentList.Skip(1))}' ran past {limit}\n{await stderr}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>How a run ended: its exit code and everything it printed.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr);
}
