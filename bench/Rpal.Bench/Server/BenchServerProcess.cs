using System.Diagnostics;

namespace Rpal.Bench.Server;

/// <summary>
/// The client side's handle on the bench server: starts this program again as "serve DIR",
/// waits for its "ready" line (with a timeout), and on dispose closes its stdin, then kills it if
/// it has not exited within a few seconds.
/// </summary>
internal sealed class BenchServerProcess : IDisposable
{
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;

    private BenchServerProcess(Process process, BenchEndpoints endpoints)
    {
        _process = process;
        Endpoints = endpoints;
    }

    /// <summary>Where the server's systems listen.</summary>
    public BenchEndpoints Endpoints { get; }

    /// <summary>The server's process id.</summary>
    public int Id => _process.Id;

    public static async Task<BenchServerProcess> StartAsync(CancellationToken cancellationToken)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"rpal-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(BenchServerProcess).Assembly.Location);
        }

        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(directory);
        Process process = Process.Start(start) ?? throw new InvalidOperationException("cannot start the bench server");
        var server = new BenchServerProcess(process, new BenchEndpoints(directory));
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
                throw new TimeoutException($"the bench server did not say ready within {s_readyTimeout.TotalSeconds:F0} s");
            }

            return line == "ready" ? server : throw new InvalidOperationException($"the bench server did not start (said: {line ?? "nothing, and exited"})");
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

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
            // it exited already
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(Endpoints.Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
