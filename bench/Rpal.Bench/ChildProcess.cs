using System.Diagnostics;

namespace Rpal.Bench;

/// <summary>
/// The server side of a scenario: this program started again with a "serve*" command.
/// <see cref="StartAsync"/> waits, with a time-out, for its "ready"; disposing closes its stdin
/// (its signal to exit), waits up to 5 s, then kills it, so no child outlives the scenario.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;

    private ChildProcess(Process process) => _process = process;

    /// <summary>The child's process id.</summary>
    public int Id => _process.Id;

    /// <summary>Starts <c>this-program command args...</c> and waits for its "ready" line.</summary>
    public static async Task<ChildProcess> StartAsync(string command, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }

        start.ArgumentList.Add(command);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start '{command}'");
        var child = new ChildProcess(process);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_readyTimeout);
            string? line;
            try
            {
                line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"'{command}' did not say ready within {s_readyTimeout.TotalSeconds:F0} s");
            }

            if (line != "ready")
            {
                throw new InvalidOperationException($"'{command}' did not start: {(line is null ? "it exited" : $"it said '{line}'")}");
            }

            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="line"/> to the child's stdin (a command of the child's own protocol).</summary>
    public async Task SendLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>The next line of the child's stdout after "ready"; null once it has exited.</summary>
    public ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken) =>
        _process.StandardOutput.ReadLineAsync(cancellationToken);

    /// <summary>Closes the child's stdin and waits up to 5 s for it to exit, else kills it.</summary>
    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // it had already gone
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>
    /// The serve side's main loop: prints "ready", then returns when stdin closes (the parent is
    /// done, or has died).
    /// </summary>
    public static async Task ServeUntilStdinClosesAsync()
    {
        Console.WriteLine("ready");
        Console.Out.Flush();
        while (await Console.In.ReadLineAsync() is not null)
        {
        }
    }
}
