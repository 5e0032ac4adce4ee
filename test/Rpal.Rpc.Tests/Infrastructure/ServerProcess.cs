using System.Runtime.InteropServices;
using System.Diagnostics;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>
/// A running Rpal.Rpc.TestServer: started with dotnet in the shared runtime directory, its
/// stdout read as events (<see cref="ServerEvents"/>) that tests wait for, its stdin a command
/// line, and killed on dispose if it does not exit when its stdin closes.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    /// <summary>How long a server may take to say "ready" (dotnet's start-up on a busy 2-core machine).</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long a test waits for an event that should follow at once.</summary>
    public static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(15);

    private readonly Process _process;
    private readonly Lock _lock = new();
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly List<Waiter> _waiters = [];
    private bool _stdoutClosed;

    private ServerProcess(Process process) => _process = process;

    /// <summary>The server's process id.</summary>
    public int Id => _process.Id;

    /// <summary>What the server wrote so far, for failure messages.</summary>
    public string Diagnostics
    {
        get
        {
            lock (_lock)
            {
                return $"--- server {Id} stdout:\n{string.Join('\n', _stdout)}\n--- stderr:\n{string.Join('\n', _stderr)}";
            }
        }
    }

    /// <summary>Starts a server with <paramref name="arguments"/> and waits until it is ready.</summary>
    public static Task<ServerProcess> StartAsync(params string[] arguments) => StartAsync(null, arguments);

    /// <summary>Starts a server the way <paramref name="launch"/> says and waits until it is ready.</summary>
    public static async Task<ServerProcess> StartAsync(ChildLaunch? launch, params string[] arguments)
    {
        ServerProcess server = Launch(launch, arguments);
        try
        {
            string line = await server.WaitForLineAsync(
                l => l == ServerEvents.Ready || l.StartsWith(ServerEvents.Error + " ", StringComparison.Ordinal),
                StartTimeout,
                ServerEvents.Ready);
            if (line != ServerEvents.Ready)
            {
                throw new InvalidOperationException($"the test server did not start: {line}\n{server.Diagnostics}");
            }

            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Starts a server and returns at once.</summary>
    public static ServerProcess Launch(params string[] arguments) => Launch(null, arguments);

    /// <summary>Starts a server the way <paramref name="launch"/> says (null: plainly) and returns at once.</summary>
    public static ServerProcess Launch(ChildLaunch? launch, params string[] arguments)
    {
        TestEnvironment.EnsureEngine(); // the runtime directory exists before the child looks
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        IReadOnlyList<string> prefix = launch?.Prefix ?? [];
        var startInfo = new ProcessStartInfo(prefix.Count > 0 ? prefix[0] : dotnet)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (prefix.Count > 0)
        {
            foreach (string word in prefix.Skip(1))
            {
                startInfo.ArgumentList.Add(word);
            }

            startInfo.ArgumentList.Add(dotnet);
        }

        startInfo.ArgumentList.Add(TestEnvironment.TestServerPath);
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach ((string name, string value) in TestEnvironment.ChildEnvironment)
        {
            startInfo.Environment[name] = value;
        }

        foreach ((string name, string value) in launch?.Environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        var process = new Process { StartInfo = startInfo };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => server.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (server._lock)
                {
                    server._stderr.Add(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Waits until the server has written the line <paramref name="line"/>.</summary>
    public Task<string> WaitForLineAsync(string line, TimeSpan? timeout = null) =>
        WaitForLineAsync(l => l == line, timeout ?? EventTimeout, line);

    /// <summary>Waits until the server has written event <paramref name="name"/> for <paramref name="tag"/>.</summary>
    public Task<string> WaitForEventAsync(string name, int tag, TimeSpan? timeout = null) =>
        WaitForLineAsync(ServerEvents.WithTag(name, tag), timeout);

    /// <summary>Waits until the server has written a line that <paramref name="match"/> accepts (earlier lines count).</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, string description)
    {
        Waiter waiter;
        lock (_lock)
        {
            foreach (string l in _stdout)
            {
                if (match(l))
                {
                    return l;
                }
            }

            if (_stdoutClosed)
            {
                throw new InvalidOperationException($"the test server exited before '{description}'\n{DiagnosticsLocked()}");
            }

            waiter = new Waiter(match, new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
            _waiters.Add(waiter);
        }

        try
        {
            return await waiter.Done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"waited {timeout.TotalSeconds} s for '{description}' from the test server\n{Diagnostics}");
        }
        finally
        {
            lock (_lock)
            {
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>True when the server has written <paramref name="line"/>.</summary>
    public bool HasWritten(string line)
    {
        lock (_lock)
        {
            return _stdout.Contains(line);
        }
    }

    /// <summary>Writes a command line to the server's stdin.</summary>
    public void Send(string command)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
    }

    /// <summary>Closes the server's stdin: it then stops (if it has not) and exits.</summary>
    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Sends SIGKILL; returns without waiting for the process to be gone.</summary>
    public void Kill() => _process.Kill();

    /// <summary>
    /// Stops the server (SIGSTOP) until the result is disposed (SIGCONT): meanwhile none of its
    /// threads runs, so nothing is taken from its rings. Returns once every thread is stopped (the
    /// signal is delivered asynchronously: a receiver could still take a message right after kill).
    /// </summary>
    public IDisposable Suspend()
    {
        const int SigStop = 19, SigCont = 18;
        Signal(SigStop);
        var resumer = new Resumer(() => Signal(SigCont));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!AllThreadsStopped())
        {
            if (waited.Elapsed > StartTimeout)
            {
                resumer.Dispose();
                throw new TimeoutException($"the server (pid {_process.Id}) did not stop within {StartTimeout}");
            }

            Thread.Yield();
        }

        return resumer;

        bool AllThreadsStopped()
        {
            foreach (string task in Directory.EnumerateDirectories($"/proc/{_process.Id}/task"))
            {
                string stat;
                try
                {
                    stat = File.ReadAllText(Path.Combine(task, "stat"));
                }
                catch (IOException)
                {
                    continue; // a thread that just ended
                }

                // "pid (comm) S ...": the state follows the last ')'
                char state = stat[stat.LastIndexOf(')') + 2];
                if (state is not ('T' or 't'))
                {
                    return false;
                }
            }

            return true;
        }

        void Signal(int signal)
        {
            if (kill(_process.Id, signal) != 0)
            {
                throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private sealed class Resumer(Action resume) : IDisposable
    {
        private Action? _resume = resume;

        public void Dispose() => Interlocked.Exchange(ref _resume, null)?.Invoke();
    }

    /// <summary>Waits for the server to exit; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Closes the server's stdin (it then exits), and kills it if it has not exited within 10 s.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    _process.Kill();
                    _process.WaitForExit();
                }
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (IOException)
        {
        }

        _process.Dispose();
    }

    private void OnStdout(string? line)
    {
        lock (_lock)
        {
            if (line is null)
            {
                _stdoutClosed = true;
                string diagnostics = DiagnosticsLocked();
                foreach (Waiter w in _waiters)
                {
                    w.Done.TrySetException(new InvalidOperationException($"the test server exited\n{diagnostics}"));
                }

                return;
            }

            _stdout.Add(line);
            foreach (Waiter w in _waiters)
            {
                if (w.Match(line))
                {
                    w.Done.TrySetResult(line);
                }
            }
        }
    }

    private string DiagnosticsLocked() =>
        $"--- server stdout:\n{string.Join('\n', _stdout)}\n--- stderr:\n{string.Join('\n', _stderr)}";

    private sealed record Waiter(Func<string, bool> Match, TaskCompletionSource<string> Done);
}
