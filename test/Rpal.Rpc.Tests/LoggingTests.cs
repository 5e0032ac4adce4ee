using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Rpal.Rpc.Generated;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Rpal.Runtime;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// The log events of docs/observability.md, by their stable ids: the client's in this process
/// (RpalChannelOptions.LoggerFactory, a recording factory), the server's in a server process run
/// with --observe, which writes them to stdout as "log ID NAME LEVEL CATEGORY: MESSAGE".
/// </summary>
public sealed class LoggingTests
{
    private const string Server = "Rpal.Rpc.RpalServer", Channel = "Rpal.Rpc.RpalChannel", Engine = "Rpal.Engine";

    [Fact]
    public async Task ConnectAndDisconnect_AreLogged_WithThePeersPidUidAndSlot()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Status, "--observe");
        await server.WaitForLineAsync(l => l.StartsWith("log 1 ServerStarted Information " + Server, StringComparison.Ordinal), ServerProcess.EventTimeout, "ServerStarted");
        var logs = new RecordingLoggerFactory();
        RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Status, new RpalChannelOptions { LoggerFactory = logs });

        LogEntry connected = await logs.WaitForAsync(Channel, 20);
        Assert.Equal(LogLevel.Information, connected.Level);
        Assert.Equal("ChannelConnected", connected.EventId.Name);
        Assert.Contains($"server pid {server.Id},", connected.Message, StringComparison.Ordinal);

        string line = await ServerLogAsync(server, 3, "ClientConnected", $"pid {Environment.ProcessId},");
        Assert.Contains($"slot {RpalEngine.SlotId}", line, StringComparison.Ordinal);
        Assert.Contains(ServiceNames.Status, line, StringComparison.Ordinal);

        await channel.DisposeAsync();
        Assert.Equal(LogLevel.Information, (await logs.WaitForAsync(Channel, 21)).Level);
        await ServerLogAsync(server, 4, "ClientDisconnected", $"pid {Environment.ProcessId},");
    }

    [Fact]
    public async Task AClientThatDiesWithCallsInFlight_IsLoggedByTheServer()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.CrashClients, "--observe");
        int tag = Tags.Next();
        using ServerProcess client = await ServerProcess.StartAsync("crash-client", tag.ToString(CultureInfo.InvariantCulture));
        await server.WaitForEventAsync(ServerEvents.Held, tag);

        client.Kill();
        string line = await ServerLogAsync(server, 5, "ClientDied", $"pid {client.Id},");
        Assert.Contains(" Warning ", line, StringComparison.Ordinal);
        Assert.Contains("with 1 calls in flight", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheServersDeath_IsLoggedByTheChannel()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Lifecycle);
        var logs = new RecordingLoggerFactory();
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Lifecycle, new RpalChannelOptions { LoggerFactory = logs });
        ILifecycleTarget client = channel.CreateClient<ILifecycleTarget>();
        int tag = Tags.Next();
        Task<int> held = client.HoldAsync(tag).AsTask();
        await server.WaitForEventAsync(ServerEvents.Held, tag);

        server.Kill();
        Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<RpcException>(() => held.WaitAsync(ServerProcess.EventTimeout))).StatusCode);
        LogEntry died = await logs.WaitForAsync(Channel, 22);
        Assert.Equal(LogLevel.Warning, died.Level);
        Assert.Equal("ServerDied", died.EventId.Name);
        Assert.Contains($"pid {server.Id},", died.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientPastTheConnectionLimit_IsLoggedAsRefused_OnBothSides()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Status, "--observe", "--max-connections", "1");
        await using RpalChannel first = await TestEnvironment.ConnectAsync(ServiceNames.Status);
        var logs = new RecordingLoggerFactory();

        RpcException e = await Assert.ThrowsAsync<RpcException>(
            () => TestEnvironment.ConnectAsync(ServiceNames.Status, new RpalChannelOptions { LoggerFactory = logs }).AsTask());
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);

        LogEntry refusedUs = await logs.WaitForAsync(Engine, 31);
        Assert.Equal("PeerRefused", refusedUs.EventId.Name);
        Assert.Contains(ServiceNames.Status, refusedUs.Message, StringComparison.Ordinal);
        string line = await ServerLogAsync(server, 31, "PeerRefused", $"pid {Environment.ProcessId}");
        Assert.Contains(" " + Engine + ": ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedInput_IsLoggedByTheServer_AndAHandlersExceptionToo()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Streaming, ServiceNames.Status, "--observe");
        TestEnvironment.EnsureEngine();
        RpalMethod sum = RpalServiceRegistry.Get<IStreamingService>().Methods.Single(m => m.Name == nameof(IStreamingService.SumAsync));
        using (RpalConnection raw = RpalConnection.Connect(ServiceNames.Streaming))
        {
            // a request whose body is longer than its payload (docs/wire.md, "Request")
            RpalMessage bad = default;
            bad.Word0 = sum.Id | ((ulong)RpalWireFlags.PayloadBody << 32);
            bad.Word2 = 100;
            Assert.Equal(0, raw.Submit(in bad, 1, out _));
            Assert.Equal(StatusCode.Internal, (StatusCode)(RawCalls.WaitForCompletion(raw).Reply.Status & 0xFFFF));
            await ServerLogAsync(server, 6, "MalformedRequest", "longer than its payload");

            // a stream element past the window (StreamingProtocolTests)
            RpalMessage open = default;
            open.Word0 = sum.Id | ((ulong)(RpalWireFlags.Stream | RpalWireFlags.Cancellable) << 32);
            Assert.Equal(0, raw.Submit(in open, 2, out ulong callId));
            for (long i = 0; i < 200; i++)
            {
                RpalMessage element = default;
                element.Word0 = (ulong)RpalWireFlags.OpStreamMessage << 32;
                element.Word1 = callId;
                element.Word2 = (ulong)i;
                Assert.Equal(0, raw.Send(in element));
            }

            RpalCompletion done = RawCalls.WaitForCompletion(raw);
            Assert.Equal(StatusCode.Internal, (StatusCode)(done.Reply.Status & 0xFFFF));
            raw.Release(in done.Reply);
            await ServerLogAsync(server, 7, "StreamProtocolViolation", sum.FullName);
        }

        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Status);
        Assert.Throws<RpcException>(() => channel.CreateClient<IStatusService>().Fail("boom"));
        string line = await ServerLogAsync(server, 9, "HandlerFailed", "/Fail");
        Assert.Contains(" Error ", line, StringComparison.Ordinal);
        Assert.Contains("boom", line, StringComparison.Ordinal);
    }

    /// <summary>Waits for the server's log line of event <paramref name="id"/> that contains <paramref name="text"/>.</summary>
    private static Task<string> ServerLogAsync(ServerProcess server, int id, string name, string text) =>
        server.WaitForLineAsync(
            l => l.StartsWith($"log {id} {name} ", StringComparison.Ordinal) && l.Contains(text, StringComparison.Ordinal),
            ServerProcess.EventTimeout, $"log {id} {name} with '{text}'");

    /// <summary>The wire's flags and operations (docs/wire.md) that these tests send by hand.</summary>
    private static class RpalWireFlags
    {
        public const uint PayloadBody = 1, Cancellable = 8, Stream = 16;
        public const uint OpStreamMessage = 2;
    }
}
