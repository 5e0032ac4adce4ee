using System.Diagnostics;

namespace Rpal.Native.Tests;

/// <summary>Runs one C test program to completion, or kills it at a timeout.</summary>
internal static class TestProgram
{
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
