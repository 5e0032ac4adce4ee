using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

internal sealed class AllocationProbe : IAllocationProbe
{
    public int Add(int a, int b) => a + b;

    public ValueTask<int> AddAsync(int a, int b) => new(a + b);

    public long AllocatedBytesOnServerThread() => GC.GetAllocatedBytesForCurrentThread();
}
