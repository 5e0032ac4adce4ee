using System.Diagnostics;

namespace GreeterExample;

/// <summary>
/// This program started again as a child process in one of its server roles. Disposing it stops
/// the child: its standard input is closed (the server's signal to stop), and it is killed if it
/// has not exited 10 seconds later.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private int? _exitCode;

    private ServerProcess(string role, Process process)
    {
        Role = role;
        _process = process;
    }

    /// <summary>The role argument it was started with ("server-rpal", "server-http2").</summary>
    public string Role { get; }

    /// <summary>The child's process id.</summary>
    public int Id => _process.Id;

    /// <summary>Starts this program again with <paramref name="args"/>.</summary>
    public static ServerProcess Start(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // Under "dotnet Greeter.dll" the process is dotnet itself; under "dotnet run" or
        // bin/.../Greeter it is the program's own launcher.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ServerProcess).Assembly.Location);
        }

        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start '{args[0]}'");
        return new ServerProcess(args[0], process);
    }

    /// <summary>
    /// Waits until the child prints "ready" (lines before it are passed through). Throws
    /// <see cref="TimeoutException"/> after <paramref name="timeout"/>, and
    /// <see cref="InvalidOperationException"/> if the child exits first.
    /// </summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            TimeSpan left = timeout - Stopwatch.GetElapsedTime(start);
            string? line;
            try
            {
                line = await _process.StandardOutput.ReadLineAsync().WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"'{Role}' (pid {Id}) did not print \"ready\" within {timeout.TotalSeconds:F0} s");
            }

            if (line is null)
            {
                int code = await StopAsync();
                throw new InvalidOperationException($"'{Role}' (pid {Id}) exited with code {code} before it was ready");
            }

            if (line == "ready")
            {
                return;
            }

            Console.WriteLine($"  [{Role}] {line}");
        }
    }

    /// <summary>Stops the child (see the class) and returns its exit code; -1 when it had to be killed.</summary>
    public async Task<int> StopAsync()
    {
        if (_exitCode is int done)
        {
            return done;
        }

        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // it has exited already: the pipe is broken
        }

        using var timeout = new CancellationTokenSource(s_stopTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            _exitCode = _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"'{Role}' (pid {Id}) did not exit within {s_stopTimeout.TotalSeconds:F0} s; killing it");
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
            _exitCode = -1;
        }

        return _exitCode.Value;
    }

    /// <summary>Stops the child if <see cref="StopAsync"/> has not, and releases the process handle.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }
}
