using System.Diagnostics;

namespace Rpal.Native.Tests;

/// <summary>Runs one C test program to completion, or kills it at a timeout.</summary>
internal static class TestProgram
{
    /// <summary>
    /// The environment every C test program runs with: <paramref name="runtimeDir"/> as its private
    /// RPAL runtime directory (mode 0700, so it meets no other RPAL process), a short spin budget,
    /// and the sanitizers' settings.
    /// </summary>
    public static IReadOnlyDictionary<string, string> NativeTestEnvironment(string runtimeDir) =>
        new Dictionary<string, string>
        {
            ["RPAL_RUNTIME_DIR"] = runtimeDir,
            // Bounded spinning: the dev and CI machines have 2 cores.
            ["RPAL_SPIN_NS"] = "20000",
            ["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0",
            ["TSAN_OPTIONS"] = "halt_on_error=1 second_deadlock_stack=1",
        };

    /// <summary>
    /// Starts <paramref name="path"/> with <paramref name="environment"/> added to this process's
    /// environment and <paramref name="workingDirectory"/> as its working directory, reads stdout
    /// and stderr as they come (a full pipe never blocks the program), and waits for it to exit
    /// and close both pipes. Past <paramref name="timeout"/> the whole process tree is killed.
    /// <paramref name="arguments"/>, when given, are passed one by one (no shell quoting).
    /// </summary>
    public static async Task<TestProgramResult> RunAsync(
        string path,
        IReadOnlyDictionary<string, string> environment,
        string workingDirectory,
        TimeSpan timeout,
        IReadOnlyList<string>? arguments = null)
    {
        var startInfo = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (string argument in arguments ?? [])
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach ((string name, string value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        // Kept apart: C stdio buffers stdout in a pipe but not stderr, so any interleaving
        // would be a guess.
        var stdout = new List<string>();
        var stderr = new List<string>();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);

        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        bool timedOut = false;
        bool exitedInTime = true;
        using (var deadline = new CancellationTokenSource(timeout))
        {
            try
            {
                // Completes when the process has exited and both pipes reached end of file.
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                exitedInTime = process.HasExited;
                KillTree(process);
            }
        }

        if (timedOut)
        {
            // A grandchild that left the process tree may still hold the pipes; don't wait on it.
            using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await process.WaitForExitAsync(drain.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return new TestProgramResult(
            exitedInTime ? process.ExitCode : -1,
            timedOut,
            Snapshot(stdout),
            Snapshot(stderr));
    }

    private static string[] Snapshot(List<string> lines)
    {
        lock (lines)
        {
            return [.. lines];
        }
    }

    private static void Append(List<string> lines, string? line)
    {
        if (line is not null)
        {
            lock (lines)
            {
                lines.Add(line);
            }
        }
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited: only its output pipes were still open.
        }
    }
}
