using Rpal.Rpc;

namespace Rpal.Rpc.TestContracts;

/// <summary>What a steady stream of calls allocates, on both sides.</summary>
[RpalService(ServiceNames.Allocation)]
public interface IAllocationProbe
{
    /// <summary>Unmanaged arguments and result.</summary>
    int Add(int a, int b);

    /// <summary>The same, asynchronous.</summary>
    ValueTask<int> AddAsync(int a, int b);

    /// <summary>
    /// Bytes allocated so far by the server thread that runs this call: the receiver thread of
    /// this connection, which also runs every other call of it.
    /// </summary>
    long AllocatedBytesOnServerThread();
}
