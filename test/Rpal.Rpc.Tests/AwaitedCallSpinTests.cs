using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// An awaited call spins for its answer on the caller's thread (RpalChannel.SubmitAndSpin), and a
/// server stream's reader for its next element (StreamCore.Pump), before they leave the wait to
/// the completion thread. Whether a given answer arrives within the
/// spin depends on the machine's load (the bench's rtt scenario measures the gain: rpal-await);
/// what is checked here is that spinning callers and the completion thread share the completions
/// without loss. Whether a call spins is the engine's spin policy (test_spin_policy checks it).
/// </summary>
[Collection(SharedServerDefinition.Name)]
public sealed class AwaitedCallSpinTests(SharedServerFixture fixture)
{
    private readonly IMethodShapes _shapes = fixture.Client<IMethodShapes>();

    [Fact]
    public async Task ConcurrentAwaitedCalls_EachGetTheirOwnAnswer_WhoeverTakesTheCompletion()
    {
        // spinning callers take each other's completions off the connection, as the completion
        // thread does: every answer must still reach its own call
        const int Tasks = 8, Calls = 2_000;
        Task[] callers = [.. Enumerable.Range(0, Tasks).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < Calls; i++)
            {
                int a = (t * 1_000_000) + i;
                Assert.Equal(a + 7, await _shapes.AddValueTaskAsync(a, 7));
            }
        }))];
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task ConcurrentStreamReaders_SpinningBesideTheCompletionThread_SeeEachStreamInOrder()
    {
        // readers of server streams take the connection's messages themselves while they spin for
        // their next element, as the completion thread does: every element must still reach its
        // own stream, in order, with unary calls going on beside them
        IStreamingService streaming = fixture.Client<IStreamingService>();
        const int Readers = 6, Rounds = 3, Count = 3_000;
        Task[] readers = [.. Enumerable.Range(0, Readers).Select(r => Task.Run(async () =>
        {
            for (int round = 0; round < Rounds; round++)
            {
                long start = (r * 1_000_000L) + (round * 10_000L), expected = start;
                await foreach (long value in streaming.Range(start, Count))
                {
                    Assert.Equal(expected++, value);
                }

                Assert.Equal(start + Count, expected);
            }
        }))];
        Task[] callers = [.. Enumerable.Range(0, 2).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < 2_000; i++)
            {
                Assert.Equal(i + t, await _shapes.AddValueTaskAsync(i, t));
            }
        }))];
        await Task.WhenAll([.. readers, .. callers]).WaitAsync(TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task WithSpinOnAwaitedCallsOff_AnAwaitedCallNeverSpins()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Lifecycle);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Lifecycle, new RpalChannelOptions { SpinOnAwaitedCalls = false });
        ILifecycleTarget client = channel.CreateClient<ILifecycleTarget>();
        int tag = Tags.Next();

        ValueTask<int> held = client.HoldAsync(tag);
        await server.WaitForEventAsync(ServerEvents.Held, tag);
        server.Send(ServerEvents.WithTag(ServerEvents.Release, tag));
        Assert.Equal(tag, await held.AsTask().WaitAsync(ServerProcess.EventTimeout));
    }
}
