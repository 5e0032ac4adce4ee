using System.Diagnostics;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Rpal.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Rpal.Rpc.Tests;

/// <summary>
/// A handler that blocks does not stall its receiver: a call back into a process whose only
/// receiver thread waits in a handler for that very call is served (the receiver goes on on
/// another thread), whether the handler blocks in a synchronous Rpal call (handed off at once) or
/// on a task's Result (taken over by the watchdog). A child process serves A, this process serves
/// B, each with one receiver thread: A.Outer -> B.Middle -> A.Inner.
/// </summary>
public sealed class BlockedHandlerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AHandlerThatSynchronouslyCallsBackIntoItsCaller_Completes_WithOneReceiverThreadOnEachSide()
    {
        await using Sides sides = await Sides.StartAsync();
        long before = RpalReceiver.TotalTakeovers;
        long start = Stopwatch.GetTimestamp();
        using (new RpalCallScope(deadline: DateTime.UtcNow + s_deadline))
        {
            Assert.Equal((3 * 2) + 1 + 1, sides.A.Outer(3));
        }

        output.WriteLine($"A.Outer -> B.Middle -> A.Inner: {Stopwatch.GetElapsedTime(start).TotalMilliseconds:F1} ms; takeovers here {RpalReceiver.TotalTakeovers - before}");
        Assert.True(RpalReceiver.TotalTakeovers > before, "B's receiver was not handed off while B.Middle called A");

        // and again, now that the receivers have spare threads
        using (new RpalCallScope(deadline: DateTime.UtcNow + s_deadline))
        {
            Assert.Equal((5 * 2) + 1 + 1, sides.A.Outer(5));
        }
    }

    [Fact]
    public async Task AHandlerThatBlocksOnSyncOverAsync_Completes_WithOneReceiverThreadOnEachSide()
    {
        await using Sides sides = await Sides.StartAsync();
        long start = Stopwatch.GetTimestamp();
        using (new RpalCallScope(deadline: DateTime.UtcNow + s_deadline))
        {
            Assert.Equal((4 * 2) + 1 + 1, sides.A.OuterSyncOverAsync(4));
        }

        TimeSpan took = Stopwatch.GetElapsedTime(start);
        output.WriteLine($"A.OuterSyncOverAsync -> B.MiddleAsync -> A.Inner: {took.TotalMilliseconds:F1} ms (A's watchdog threshold {RpalReceiver.BlockedCallbackThreshold.TotalMilliseconds} ms)");
    }

    /// <summary>A in a child process, B here, both with one receiver thread.</summary>
    private sealed class Sides : IAsyncDisposable
    {
        private readonly ServerProcess _a;
        private readonly RpalServer _b;
        private readonly CallbackProbe<ICallbackA> _bProbe;
        private readonly RpalChannel _channel;

        private Sides(ServerProcess a, RpalServer b, CallbackProbe<ICallbackA> bProbe, RpalChannel channel)
        {
            _a = a;
            _b = b;
            _bProbe = bProbe;
            _channel = channel;
            A = channel.CreateClient<ICallbackA>();
        }

        public ICallbackA A { get; }

        public static async Task<Sides> StartAsync()
        {
            var bProbe = new CallbackProbe<ICallbackA>(ServiceNames.CallbackA);
            var b = new RpalServer(new RpalServerOptions { ReceiverThreads = 1 });
            b.AddService<ICallbackB>(bProbe);
            await b.StartAsync();
            ServerProcess a = await ServerProcess.StartAsync(ServiceNames.CallbackA, "--receivers", "1");
            RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.CallbackA);
            return new Sides(a, b, bProbe, channel);
        }

        public async ValueTask DisposeAsync()
        {
            await _channel.DisposeAsync();
            await _bProbe.DisposeAsync();
            await _b.DisposeAsync();
            _a.Dispose();
        }
    }
}
