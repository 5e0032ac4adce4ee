namespace Rpal.Rpc.TestContracts;

/// <summary>
/// The methods of the servers that tests kill, stop and restart: which process serves, and calls
/// that stay in flight until the test releases them ("release TAG" on the server's stdin) or
/// their token fires.
/// </summary>
public interface IProcessProbe
{
    int GetProcessId();

    /// <summary>Writes "held TAG", waits for "release TAG" or the token, returns <paramref name="tag"/>.</summary>
    ValueTask<int> HoldAsync(int tag, CancellationToken cancellationToken = default);

    /// <summary>Writes "held TAG" and blocks its receiver thread until "release TAG"; returns <paramref name="tag"/>.</summary>
    int Hold(int tag);

    /// <summary>Streams 0, 1, 2... for ever (flow-controlled), writing "held TAG" after the first element.</summary>
    IAsyncEnumerable<long> StreamForever(int tag, CancellationToken cancellationToken = default);
}
