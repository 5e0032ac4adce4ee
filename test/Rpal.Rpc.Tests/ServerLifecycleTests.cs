using System.Globalization;
using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// StopAsync drains the calls in flight within the grace period and then cancels them; a name
/// is served by one live server at a time, and is free again after StopAsync. Each test has its
/// own servers.
/// </summary>
public sealed class ServerLifecycleTests
{
    [Fact]
    public async Task StopAsync_LetsACallInFlightFinish_WithinTheGracePeriod()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Lifecycle, "--grace-ms", "30000");
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Lifecycle);
        ILifecycleTarget client = channel.CreateClient<ILifecycleTarget>();
        int tag = Tags.Next();
        Task<int> call = client.HoldAsync(tag).AsTask();
        await server.WaitForEventAsync(ServerEvents.Held, tag);

        server.Send(ServerEvents.Stop);
        await server.WaitForLineAsync(ServerEvents.Stopping);
        Assert.False(call.IsCompleted);
        Assert.False(server.HasWritten(ServerEvents.Stopped), "StopAsync returned with a call in flight");

        server.Send(ServerEvents.WithTag(ServerEvents.Release, tag));
        Assert.Equal(tag, await call.WaitAsync(ServerProcess.EventTimeout));
        int stoppedAfterMs = await StoppedAsync(server);
        Assert.InRange(stoppedAfterMs, 0, 29_000);

        // stopped: the channel is closed and the name no longer served
        Assert.Equal(StatusCode.Unavailable, Assert.Throws<RpcException>(() => client.GetProcessId()).StatusCode);
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => TestEnvironment.ConnectAsync(ServiceNames.Lifecycle).AsTask());
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
    }

    [Fact]
    public async Task StopAsync_AfterTheGracePeriod_CancelsTheHandlersToken()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Lifecycle, "--grace-ms", "300");
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Lifecycle);
        ILifecycleTarget client = channel.CreateClient<ILifecycleTarget>();
        using var cts = new CancellationTokenSource(); // never cancelled: the call is cancellable
        int tag = Tags.Next();
        Task<int> call = client.HoldAsync(tag, cts.Token).AsTask();
        await server.WaitForEventAsync(ServerEvents.Held, tag);

        server.Send(ServerEvents.Stop);
        await server.WaitForEventAsync(ServerEvents.TokenFired, tag);
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(ServerProcess.EventTimeout));
        Assert.Contains(e.StatusCode, new[] { StatusCode.Cancelled, StatusCode.Unavailable });
        Assert.InRange(await StoppedAsync(server), 250, 10_000);
    }

    [Fact]
    public async Task StopAsync_CutsOffACallWithoutAToken_OneSecondAfterTheGracePeriod()
    {
        // docs/deadlines.md: a call made without a deadline or a cancellable token has no token
        // to cancel; StopAsync waits the grace period and 1 s more, then closes the connection.
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Lifecycle, "--grace-ms", "300");
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Lifecycle);
        ILifecycleTarget client = channel.CreateClient<ILifecycleTarget>();
        int tag = Tags.Next();
        Task<int> call = client.HoldAsync(tag).AsTask();
        await server.WaitForEventAsync(ServerEvents.Held, tag);

        server.Send(ServerEvents.Stop);
        Assert.InRange(await StoppedAsync(server), 1_250, 10_000);
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.False(server.HasWritten(ServerEvents.WithTag(ServerEvents.TokenFired, tag)));
    }

    [Fact]
    public async Task StopAsync_WithAHandlerThatNeverReturns_ReturnsAfterTheGracePeriod_AndTheProcessCanExit()
    {
        // A synchronous handler that blocks the server's only receiver thread and is never
        // released: StopAsync cannot wait for it, nor abort it.
        var launch = new ChildLaunch([], new Dictionary<string, string> { ["RPAL_SPIN_NS"] = "0" });
        using ServerProcess server = await ServerProcess.StartAsync(
            launch, ServiceNames.Lifecycle, "--grace-ms", "500", "--receivers", "1", "--observe");
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Lifecycle);
        ILifecycleTarget client = channel.CreateClient<ILifecycleTarget>();
        int tag = Tags.Next();
        Task<int> call = Task.Run(() => client.Hold(tag));
        await server.WaitForEventAsync(ServerEvents.Held, tag);

        server.Send(ServerEvents.Stop);
        Assert.InRange(await StoppedAsync(server), 500, 500 + 2_000);

        // the waiting client gets a status, not a hang
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(ServerProcess.EventTimeout));
        Assert.Contains(e.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Cancelled });

        // the abandoned handler is reported by method
        string abandoned = await server.WaitForLineAsync(
            l => l.StartsWith("log 16 HandlerAbandoned Warning ", StringComparison.Ordinal), ServerProcess.EventTimeout, "HandlerAbandoned");
        Assert.Contains($"/{ServiceNames.Lifecycle}/Hold", abandoned, StringComparison.Ordinal);

        // and the process exits, its receiver thread still blocked
        server.CloseInput();
        Assert.Equal(0, await server.WaitForExitAsync(ServerProcess.EventTimeout));
    }

    [Fact]
    public async Task ASecondServerForALiveName_FailsToStart_WithAClearError()
    {
        using ServerProcess first = await ServerProcess.StartAsync(ServiceNames.Lifecycle);

        InvalidOperationException e = await StartSecondServerAsync();
        Assert.Contains("another live process serves it", e.Message, StringComparison.Ordinal);

        // the first server is untouched
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Lifecycle);
        Assert.Equal(first.Id, channel.CreateClient<ILifecycleTarget>().GetProcessId());
    }

    [Fact]
    public async Task ASecondServersError_NamesTheServiceItCouldNotRegister()
    {
        using ServerProcess first = await ServerProcess.StartAsync(ServiceNames.Lifecycle);
        InvalidOperationException e = await StartSecondServerAsync();
        Assert.Contains(ServiceNames.Lifecycle, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterStopAsync_ANewServerCanTakeTheName()
    {
        using ServerProcess first = await ServerProcess.StartAsync(ServiceNames.Lifecycle);
        first.Send(ServerEvents.Stop);
        await StoppedAsync(first);

        using ServerProcess second = await ServerProcess.StartAsync(ServiceNames.Lifecycle); // first is still alive
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Lifecycle);
        Assert.Equal(second.Id, channel.CreateClient<ILifecycleTarget>().GetProcessId());
    }

    /// <summary>Starts a server for <see cref="ServiceNames.Lifecycle"/> in this process, which must fail.</summary>
    private static async Task<InvalidOperationException> StartSecondServerAsync()
    {
        await using var second = new RpalServer();
        second.AddService<ILifecycleTarget>(new LocalLifecycleTarget());
        return await Assert.ThrowsAsync<InvalidOperationException>(() => second.StartAsync());
    }

    private static async Task<int> StoppedAsync(ServerProcess server)
    {
        string line = await server.WaitForLineAsync(
            l => l.StartsWith(ServerEvents.Stopped + " ", StringComparison.Ordinal), ServerProcess.EventTimeout, ServerEvents.Stopped);
        return int.Parse(line.AsSpan(ServerEvents.Stopped.Length + 1), CultureInfo.InvariantCulture);
    }

    /// <summary>A server in this process, for the name clash.</summary>
    private sealed class LocalLifecycleTarget : ILifecycleTarget
    {
        public int GetProcessId() => Environment.ProcessId;

        public ValueTask<int> HoldAsync(int tag, CancellationToken cancellationToken = default) => new(tag);

        public int Hold(int tag) => tag;

        public IAsyncEnumerable<long> StreamForever(int tag, CancellationToken cancellationToken = default) =>
            AsyncEnumerable.Empty<long>();
    }
}
