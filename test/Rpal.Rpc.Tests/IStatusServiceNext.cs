using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.Tests;

/// <summary>
/// A newer version of <see cref="IStatusService"/>, compiled apart from it: the same service name,
/// one method the running server knows and ones it does not.
/// </summary>
[RpalService(ServiceNames.Status)]
public interface IStatusServiceNext
{
    int Ping();

    int PingFromTheFuture();

    ValueTask<int> PingFromTheFutureAsync();
}
