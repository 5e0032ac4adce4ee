using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

internal sealed class DetailedErrorService : IDetailedErrorService
{
    public void Fail(string message) => throw new InvalidOperationException(message);
}
