using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// A steady stream of calls with unmanaged arguments allocates nothing, on the client thread
/// and on the server's receiver thread (GC.GetAllocatedBytesForCurrentThread over 100,000 calls).
/// </summary>
[Collection(SharedServerDefinition.Name)]
public sealed class AllocationTests(SharedServerFixture fixture)
{
    private const int Calls = 100_000;

    private readonly IAllocationProbe _probe = fixture.Client<IAllocationProbe>();

    [Fact]
    public void SyncCalls_AllocateNothing_OnEitherSide()
    {
        for (int i = 0; i < 20_000; i++)
        {
            _probe.Add(i, 1); // warm up: pools, JIT tiers
        }

        long server = _probe.AllocatedBytesOnServerThread();
        long client = GC.GetAllocatedBytesForCurrentThread();
        int sum = 0;
        for (int i = 0; i < Calls; i++)
        {
            sum += _probe.Add(i, 1) - i;
        }

        long clientBytes = GC.GetAllocatedBytesForCurrentThread() - client;
        long serverBytes = _probe.AllocatedBytesOnServerThread() - server;
        Assert.Equal(Calls, sum);
        Assert.Equal(0, clientBytes);
        Assert.Equal(0, serverBytes);
    }

    [Fact]
    public void AsyncCalls_CompletedOnTheCallingThread_AllocateNothing_OnEitherSide()
    {
        for (int i = 0; i < 20_000; i++)
        {
            Wait(_probe.AddAsync(i, 1));
        }

        long server = _probe.AllocatedBytesOnServerThread();
        long client = GC.GetAllocatedBytesForCurrentThread();
        int sum = 0;
        for (int i = 0; i < Calls; i++)
        {
            sum += Wait(_probe.AddAsync(i, 1)) - i;
        }

        long clientBytes = GC.GetAllocatedBytesForCurrentThread() - client;
        long serverBytes = _probe.AllocatedBytesOnServerThread() - server;
        Assert.Equal(Calls, sum);
        Assert.Equal(0, clientBytes);
        Assert.Equal(0, serverBytes);
    }

    /// <summary>
    /// Waits for a pooled ValueTask without the allocations of an async method or a Task: spin
    /// until the completion thread has set the result, then take it.
    /// </summary>
    private static int Wait(ValueTask<int> pending)
    {
        var spin = default(SpinWait);
        while (!pending.IsCompleted)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }

        return pending.GetAwaiter().GetResult();
    }
}
