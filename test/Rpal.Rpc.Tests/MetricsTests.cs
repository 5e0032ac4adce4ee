using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// The meter "Rpal" (docs/observability.md): calls counted by service, method and status with
/// their durations, calls in flight, the engine's per-connection counters; on the client in this
/// process (a MeterListener), on the server in a server process run with --observe, which writes
/// its measurements to stdout.
/// </summary>
public sealed class MetricsTests
{
    private const int Ok = (int)StatusCode.OK, Unknown = (int)StatusCode.Unknown, NotFound = (int)StatusCode.NotFound,
        DeadlineExceeded = (int)StatusCode.DeadlineExceeded;

    [Fact]
    public async Task Calls_AreCountedByMethodAndStatus_WithTheirDurations_OnBothSides()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Status, "--observe");
        using var metrics = new RecordingMeterListener(ServiceNames.Status);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Status);
        IStatusService client = channel.CreateClient<IStatusService>();

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(1, client.Ping());
        }

        Assert.Equal(StatusCode.Unknown, Assert.Throws<RpcException>(() => client.Fail("boom")).StatusCode);
        RpcException notFound = await Assert.ThrowsAsync<RpcException>(() => client.ThrowRpcAfterYieldAsync(StatusCode.NotFound, "gone", "k", "v"));
        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
        IStatusService late = channel.CreateClient<IStatusService>(new CallOptions(deadline: DateTime.UtcNow.AddSeconds(-1)));
        Assert.Equal(StatusCode.DeadlineExceeded, Assert.Throws<RpcException>(() => late.Ping()).StatusCode);

        // the client: six calls started, each ended once with its status and its duration
        IReadOnlyList<MeasurementEntry> started = metrics.Of("rpal.client.calls.started");
        Assert.Equal(6, started.Count);
        Assert.All(started, m => Assert.Equal("rpal", m["rpc.system"]));
        Assert.Equal(4, started.Count(m => Equals(m["rpc.method"], "Ping")));

        IReadOnlyList<MeasurementEntry> completed = metrics.Of("rpal.client.calls.completed");
        Assert.Equal(
            new[] { ("Fail", Unknown), ("Ping", Ok), ("Ping", Ok), ("Ping", Ok), ("Ping", DeadlineExceeded), (AsyncThrow(completed), NotFound) }.Order(),
            completed.Select(m => ((string)m["rpc.method"]!, (int)m["rpc.grpc.status_code"]!)).Order());
        Assert.StartsWith("ThrowRpcAfterYield", AsyncThrow(completed), StringComparison.Ordinal);
        Assert.Equal(new[] { Unknown, NotFound, DeadlineExceeded }.Order(),
            metrics.Of("rpal.client.calls.failed").Select(m => (int)m["rpc.grpc.status_code"]!).Order());

        IReadOnlyList<MeasurementEntry> durations = metrics.Of("rpal.client.call.duration");
        Assert.Equal(6, durations.Count);
        Assert.All(durations, m => Assert.InRange(m.Value, 1e-9, ServerProcess.EventTimeout.TotalSeconds));

        // the server: the same calls, answered with the same statuses
        foreach ((string method, int code) in new[] { ("Ping", Ok), ("Fail", Unknown), ("ThrowRpcAfterYield", NotFound), ("Ping", DeadlineExceeded) })
        {
            await server.WaitForLineAsync(
                l => l.StartsWith("metric rpal.server.calls.completed 1 ", StringComparison.Ordinal) &&
                    l.Contains($" rpc.method={method}", StringComparison.Ordinal) && l.EndsWith($" rpc.grpc.status_code={code}", StringComparison.Ordinal),
                ServerProcess.EventTimeout, $"server completed {method} with {code}");
            await server.WaitForLineAsync(
                l => l.StartsWith("metric rpal.server.call.duration ", StringComparison.Ordinal) &&
                    l.Contains($" rpc.method={method}", StringComparison.Ordinal) && l.EndsWith($" rpc.grpc.status_code={code}", StringComparison.Ordinal),
                ServerProcess.EventTimeout, $"server duration of {method} with {code}");
        }

        await server.WaitForLineAsync(
            l => l.StartsWith("metric rpal.server.calls.failed 1 ", StringComparison.Ordinal) && l.Contains(" rpc.method=Fail ", StringComparison.Ordinal),
            ServerProcess.EventTimeout, "server failed Fail");
    }

    [Fact]
    public async Task AStreamingCall_IsCountedOnce_WhenItEnds()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Streaming);
        using var metrics = new RecordingMeterListener(ServiceNames.Streaming);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Streaming);
        IStreamingService client = channel.CreateClient<IStreamingService>();

        Assert.Equal((6L, 3L), await client.SumAsync(AsyncEnumerable.Range(1, 3).Select(i => (long)i)));

        MeasurementEntry started = Assert.Single(metrics.Of("rpal.client.calls.started"));
        Assert.Equal("SumAsync", started["rpc.method"]);
        MeasurementEntry completed = Assert.Single(metrics.Of("rpal.client.calls.completed"));
        Assert.Equal(Ok, completed["rpc.grpc.status_code"]);
        Assert.Single(metrics.Of("rpal.client.call.duration"));
        Assert.Empty(metrics.Of("rpal.client.calls.failed"));
    }

    [Fact]
    public async Task CallsInFlight_CountAHeldCall_AndReturnToZero_OnBothSides()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Lifecycle, "--observe");
        using var metrics = new RecordingMeterListener(ServiceNames.Lifecycle);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Lifecycle);
        ILifecycleTarget client = channel.CreateClient<ILifecycleTarget>();
        int tag = Tags.Next();

        Task<int> held = client.HoldAsync(tag).AsTask();
        await server.WaitForEventAsync(ServerEvents.Held, tag);
        Assert.Equal(1, InFlight(metrics));
        await ServerInFlightAsync(server, 1);

        server.Send(ServerEvents.WithTag(ServerEvents.Release, tag));
        Assert.Equal(tag, await held.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(0, InFlight(metrics));
        await ServerInFlightAsync(server, 0);
    }

    [Fact]
    public async Task TheEnginesConnectionCounters_AreObservedByServiceAndSide()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Status, "--observe");
        using var metrics = new RecordingMeterListener(ServiceNames.Status);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Status);
        IStatusService client = channel.CreateClient<IStatusService>();
        for (int i = 0; i < 10; i++)
        {
            client.Ping();
        }

        metrics.Observe();
        MeasurementEntry sent = Assert.Single(metrics.Of("rpal.connection.messages.sent"));
        Assert.Equal("client", sent["rpal.side"]);
        Assert.InRange(sent.Value, 10, double.MaxValue);
        Assert.InRange(Assert.Single(metrics.Of("rpal.connection.messages.received")).Value, 10, double.MaxValue);
        Assert.Equal(0, Assert.Single(metrics.Of("rpal.connection.messages.rejected")).Value);
        Assert.Single(metrics.Of("rpal.connection.waits.spun"));
        Assert.Single(metrics.Of("rpal.connection.waits.parked"));
        Assert.Single(metrics.Of("rpal.connection.wakeups"));
        Assert.Single(metrics.Of("rpal.connection.lent_bytes"));

        server.Send("observe");
        string line = await server.WaitForLineAsync(
            l => l.StartsWith("metric rpal.connection.messages.received ", StringComparison.Ordinal) && l.Contains(" rpal.side=server", StringComparison.Ordinal),
            ServerProcess.EventTimeout, "the server's received count");
        Assert.InRange(long.Parse(line.Split(' ')[2], CultureInfo.InvariantCulture), 10, long.MaxValue);
        await server.WaitForLineAsync(
            l => l.StartsWith("metric rpal.server.connections 1 ", StringComparison.Ordinal), ServerProcess.EventTimeout, "one connection");
    }

    [Fact]
    public async Task RingOccupancy_CountsTheRequestsASuspendedServerHasNotTaken()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Lifecycle, "--observe");
        using var metrics = new RecordingMeterListener(ServiceNames.Lifecycle);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Lifecycle);
        ILifecycleTarget client = channel.CreateClient<ILifecycleTarget>();
        Assert.Equal(server.Id, client.GetProcessId());
        Assert.Equal(0, Ring(metrics, "request_out"));

        var tags = Enumerable.Range(0, 5).Select(_ => Tags.Next()).ToArray();
        Task<int>[] held;
        using (server.Suspend())
        {
            held = tags.Select(t => client.HoldAsync(t).AsTask()).ToArray();
            Assert.Equal(5, Ring(metrics, "request_out"));
            Assert.Equal(0, Ring(metrics, "control_in"));
        }

        foreach (int tag in tags)
        {
            await server.WaitForEventAsync(ServerEvents.Held, tag);
        }

        Assert.Equal(0, Ring(metrics, "request_out"));
        foreach (int tag in tags)
        {
            server.Send(ServerEvents.WithTag(ServerEvents.Release, tag));
        }

        Assert.Equal(tags, await Task.WhenAll(held).WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(0, Ring(metrics, "request_out"));
        Assert.Equal(0, Ring(metrics, "control_out"));
        Assert.Equal(0, Ring(metrics, "request_in"));
    }

    /// <summary>Observes rpal.connection.ring.queued once; the client side's value for one ring.</summary>
    private static double Ring(RecordingMeterListener metrics, string ring)
    {
        int before = metrics.Of("rpal.connection.ring.queued").Count;
        metrics.Observe();
        IEnumerable<MeasurementEntry> now = metrics.Of("rpal.connection.ring.queued").Skip(before);
        Assert.Equal(4, now.Count()); // one series per ring of the channel's one connection
        MeasurementEntry m = now.Single(m => Equals(m["rpal.ring"], ring));
        Assert.Equal("client", m["rpal.side"]);
        return m.Value;
    }

    private static string AsyncThrow(IReadOnlyList<MeasurementEntry> completed) =>
        (string)completed.Single(m => (int)m["rpc.grpc.status_code"]! == NotFound)["rpc.method"]!;

    private static double InFlight(RecordingMeterListener metrics)
    {
        int before = metrics.Of("rpal.client.calls.in_flight").Count;
        metrics.Observe();
        return metrics.Of("rpal.client.calls.in_flight").Skip(before).Single().Value;
    }

    /// <summary>
    /// Asks the server to observe until its in-flight count is <paramref name="expected"/>: the
    /// server counts a call out only after its reply is sent, so the client may see the reply
    /// first and the first observation may still count it.
    /// </summary>
    private static async Task ServerInFlightAsync(ServerProcess server, int expected)
    {
        string line = $"metric rpal.server.calls.in_flight {expected} rpc.service={ServiceNames.Lifecycle} rpc.system=rpal";
        var waited = Stopwatch.StartNew();
        while (true)
        {
            server.Send("observe");
            try
            {
                await server.WaitForLineAsync(l => l == line, TimeSpan.FromMilliseconds(500), $"the server's in-flight count {expected}");
                return;
            }
            catch (TimeoutException) when (waited.Elapsed < ServerProcess.EventTimeout)
            {
            }
        }
    }
}
