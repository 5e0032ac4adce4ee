using System.Diagnostics;
using System.Globalization;
using Rpal.Runtime.TestPeer;

namespace Rpal.Runtime.Tests;

/// <summary>A running Rpal.Runtime.TestPeer process: started with dotnet, killed on dispose.</summary>
internal sealed class PeerProcess : IDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly List<string> _stderr = [];

    private PeerProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The peer's process id.</summary>
    public int Id => _process.Id;

    /// <summary>The service key the server printed.</summary>
    public ulong Key { get; private set; }

    /// <summary>What the peer wrote to stderr so far.</summary>
    public string Errors
    {
        get
        {
            lock (_stderr)
            {
                return string.Join('\n', _stderr);
            }
        }
    }

    /// <summary>Starts a server for <paramref name="service"/> and waits until it serves.</summary>
    public static async Task<PeerProcess> StartServerAsync(string service)
    {
        PeerProcess peer = Start("server", service);
        try
        {
            using var timeout = new CancellationTokenSource(s_startTimeout);
            string? line = await peer._process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line is null || !line.StartsWith(PeerProtocol.Ready + " ", StringComparison.Ordinal))
            {
                await peer._process.WaitForExitAsync(timeout.Token);
                throw new InvalidOperationException($"the peer did not start: '{line}'\n{peer.Errors}");
            }

            peer.Key = ulong.Parse(line[(PeerProtocol.Ready.Length + 1)..], CultureInfo.InvariantCulture);
            return peer;
        }
        catch
        {
            peer.Dispose();
            throw;
        }
    }

    /// <summary>Starts a client that makes <paramref name="calls"/> echo calls to <paramref name="service"/>.</summary>
    public static PeerProcess StartClient(string service, int calls) =>
        Start("client", service, calls.ToString(CultureInfo.InvariantCulture));

    /// <summary>Waits for the peer to exit and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Kills the peer (SIGKILL) and waits until it is gone.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close(); // a server exits when stdin closes
                if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    _process.Kill(entireProcessTree: true);
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

    private static PeerProcess Start(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Rpal.Runtime.TestPeer.dll");
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        foreach ((string name, string value) in TestEngine.PeerEnvironment)
        {
            startInfo.Environment[name] = value;
        }

        var process = new Process { StartInfo = startInfo };
        var peer = new PeerProcess(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (peer._stderr)
                {
                    peer._stderr.Add(e.Data);
                }
            }
        };
        process.Start();
        process.BeginErrorReadLine();
        return peer;
    }
}
