namespace Rpal.Bench.Server;

/// <summary>
/// The client side's handle on the bench server ("serve DIR", a <see cref="ChildProcess"/>):
/// where its systems listen; disposing stops it and removes its directory.
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
