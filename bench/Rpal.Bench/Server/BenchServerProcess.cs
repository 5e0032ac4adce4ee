using System.Globalization;

namespace Rpal.Bench.Server;

/// <summary>
/// The client side's handle on the bench server ("serve DIR", a <see cref="ChildProcess"/>):
/// where its systems listen, and its CPU time; disposing stops it and removes its directory.
/// </summary>
internal sealed class BenchServerProcess : IDisposable
{
    private readonly ChildProcess _process;

    private BenchServerProcess(ChildProcess process, BenchEndpoints endpoints)
    {
        _process = process;
        Endpoints = endpoints;
    }

    /// <summary>Where the server's systems listen.</summary>
    public BenchEndpoints Endpoints { get; }

    /// <summary>The server's process id.</summary>
    public int Id => _process.Id;

    /// <summary>
    /// The server's CPU time so far, user and system, of all its threads, in ns, as the server
    /// reads it itself (<see cref="BenchServer.CpuCommand"/>): asked over its standard input,
    /// answered on its standard output.
    /// </summary>
    public async Task<long> CpuNsAsync(CancellationToken cancellationToken)
    {
        await _process.SendLineAsync(BenchServer.CpuCommand);
        string? answer = await _process.ReadLineAsync(cancellationToken);
        string prefix = BenchServer.CpuCommand + " ";
        return answer is not null && answer.StartsWith(prefix, StringComparison.Ordinal)
            && long.TryParse(answer.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out long ns)
            ? ns
            : throw new InvalidOperationException($"the bench server answered '{answer ?? "(it exited)"}' to '{BenchServer.CpuCommand}'");
    }

    public static async Task<BenchServerProcess> StartAsync(CancellationToken cancellationToken)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"rpal-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        try
        {
            ChildProcess process = await ChildProcess.StartAsync("serve", [directory], cancellationToken);
            return new BenchServerProcess(process, new BenchEndpoints(directory));
        }
        catch
        {
            RemoveDirectory(directory);
            throw;
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        RemoveDirectory(Endpoints.Directory);
    }

    private static void RemoveDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
