using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rpal.Rpc.Hosting;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Rpal.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Rpal.Rpc.Tests;

/// <summary>AddRpalServer / AddRpalClient options from configuration, in this process (no server).</summary>
public sealed class HostingConfigurationTests
{
    [Fact]
    public void Configuration_BindsServerEngineServiceAndClientOptions()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Rpal:Server:ReceiverThreads"] = "3",
            ["Rpal:Server:MaxConnectionsPerService"] = "7",
            ["Rpal:Server:ShutdownGracePeriod"] = "00:00:02",
            ["Rpal:Server:MaxSendMessageSize"] = "4096",
            ["Rpal:Server:AllowedPeers:UserIds:0"] = "1001",
            ["Rpal:Server:AllowedPeers:GroupIds:0"] = "50",
            ["Rpal:Engine:ArenaSize"] = "16777216",
            ["Rpal:Engine:RuntimeDirectory"] = "/run/rpal-demo",
            ["Rpal:Clients:rpal.test.kill:DefaultTimeout"] = "00:00:03",
            ["Rpal:Clients:rpal.test.kill:MaxConcurrentCalls"] = "9",
            ["Rpal:Clients:rpal.test.kill:CallLimitBehavior"] = "Fail",
            ["Rpal:Clients:rpal.test.kill:TrustedServers:UserIds:0"] = "1002",
            ["Rpal:Clients:rpal.test.kill:ReconnectDelay"] = "00:00:00.250",
            ["Rpal:Clients:rpal.test.kill:MaxReconnectDelay"] = "00:00:10",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddRpalServer(o => o.EnableDetailedErrors = true); // code after configuration
        services.AddRpalClient<IKillTarget>(ServiceNames.Kill, o => o.MaxConcurrentCalls = 11);
        using ServiceProvider provider = services.BuildServiceProvider();

        RpalServerOptions server = provider.GetRequiredService<IOptions<RpalServerOptions>>().Value;
        Assert.Equal(3, server.ReceiverThreads);
        Assert.Equal(7, server.MaxConnectionsPerService);
        Assert.Equal(TimeSpan.FromSeconds(2), server.ShutdownGracePeriod);
        Assert.Equal(4096, server.MaxSendMessageSize);
        Assert.True(server.EnableDetailedErrors);
        Assert.Equal([1001u], server.AllowedPeers.UserIds);
        Assert.Equal([50u], server.AllowedPeers.GroupIds);

        RpalEngineOptions engine = provider.GetRequiredService<IOptions<RpalEngineOptions>>().Value;
        Assert.Equal(16L << 20, engine.ArenaSize);
        Assert.Equal("/run/rpal-demo", engine.RuntimeDirectory);
        Assert.Null(engine.RingEntries);

        RpalClientOptions client = provider.GetRequiredService<IOptionsMonitor<RpalClientOptions>>().Get(ServiceNames.Kill);
        Assert.Equal(TimeSpan.FromSeconds(3), client.Channel.DefaultTimeout);
        Assert.Equal(11, client.Channel.MaxConcurrentCalls); // the delegate runs after the configuration
        Assert.Equal([1002u], client.Channel.TrustedServers.UserIds);
        Assert.Equal(RpalCallLimitBehavior.Fail, client.Channel.CallLimitBehavior);
        Assert.Equal(TimeSpan.FromMilliseconds(250), client.ReconnectDelay);
        Assert.Equal(TimeSpan.FromSeconds(10), client.MaxReconnectDelay);
        Assert.Equal(128, provider.GetRequiredService<IOptionsMonitor<RpalClientOptions>>().Get("other").Channel.MaxConcurrentCalls);
    }

    [Theory]
    [InlineData("Rpal:Server:SpinBudget")]
    [InlineData("Rpal:Clients:rpal.test.kill:SpinBudget")]
    public void ASpinBudgetOutsideTheEngineSection_FailsNamingTheKeyToUse(string key)
    {
        // the budget is process-wide: a server or client key the binder would silently ignore
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [key] = "00:00:00.000010",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddRpalServer();
        services.AddRpalClient<IKillTarget>(ServiceNames.Kill);
        using ServiceProvider provider = services.BuildServiceProvider();

        var e = Assert.Throws<InvalidOperationException>(() =>
        {
            _ = provider.GetRequiredService<IOptions<RpalServerOptions>>().Value;
            _ = provider.GetRequiredService<IOptionsMonitor<RpalClientOptions>>().Get(ServiceNames.Kill);
        });
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
        Assert.Contains("Rpal:Engine:SpinBudget", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOptionsPattern_ConfigureWithAnySection_FillsTheGetOnlyAllowlists()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Custom:Rpal:ReceiverThreads"] = "2",
            ["Custom:Rpal:AllowedPeers:UserIds:0"] = "1001",
            ["Custom:Rpal:AllowedPeers:UserIds:1"] = "1003",
        }).Build();
        var services = new ServiceCollection();
        services.AddRpalServer();
        services.Configure<RpalServerOptions>(configuration.GetSection("Custom:Rpal"));
        services.AddRpalServer(configuration.GetSection("Custom:Rpal"))
            .AddService<ILifecycleTarget>(_ => new LocalProbe(), o => o.MaxConnections = 2);
        await using ServiceProvider provider = services.BuildServiceProvider();

        RpalServer server = provider.GetRequiredService<RpalServer>();
        Assert.Equal(2, server.Options.ReceiverThreads);
        Assert.Contains(1001u, server.Options.AllowedPeers.UserIds);
        Assert.Contains(1003u, server.Options.AllowedPeers.UserIds);
        Assert.Same(server, provider.GetRequiredService<RpalServer>());
    }

    [Fact]
    public void AddRpalClient_RegistersOneSingleton_AndRefusesAServiceNameThatIsNotTheInterfaces()
    {
        var services = new ServiceCollection();
        services.AddRpalClient<IKillTarget>(); // the name from [RpalService]
        services.AddRpalClient<ILifecycleTarget>("not.the.lifecycle.name");
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(provider.GetRequiredService<IKillTarget>(), provider.GetRequiredService<IKillTarget>());
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<ILifecycleTarget>());
        Assert.Contains("not.the.lifecycle.name", e.Message, StringComparison.Ordinal);
    }

    private sealed class LocalProbe : ILifecycleTarget
    {
        public int GetProcessId() => Environment.ProcessId;

        public int Hold(int tag) => tag;

        public ValueTask<int> HoldAsync(int tag, CancellationToken cancellationToken = default) => ValueTask.FromResult(tag);

        public IAsyncEnumerable<long> StreamForever(int tag, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}

/// <summary>
/// The server run by a generic host (Rpal.Rpc.TestServer's "host" mode): it serves, takes its
/// options from configuration, and stops gracefully with the host.
/// </summary>
public sealed class HostingServerTests
{
    [Fact]
    public async Task HostedServer_ServesCalls_WithOptionsFromTheEnvironment()
    {
        // the server's limit for every service, and one service's own (Rpal:Services:NAME)
        var launch = new ChildLaunch([], new Dictionary<string, string>
        {
            ["Rpal__Server__MaxConnectionsPerService"] = "1",
            [$"Rpal__Services__{ServiceNames.Kill}__MaxConnections"] = "2",
        });
        using ServerProcess server = await ServerProcess.StartAsync(launch, "host", ServiceNames.Kill, ServiceNames.Lifecycle);

        await using RpalChannel lifecycle = await TestEnvironment.ConnectAsync(ServiceNames.Lifecycle);
        Assert.Equal(server.Id, lifecycle.CreateClient<ILifecycleTarget>().GetProcessId());
        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await TestEnvironment.ConnectAsync(ServiceNames.Lifecycle));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);

        await using RpalChannel kill1 = await TestEnvironment.ConnectAsync(ServiceNames.Kill);
        await using RpalChannel kill2 = await TestEnvironment.ConnectAsync(ServiceNames.Kill);
        Assert.Equal(server.Id, kill2.CreateClient<IKillTarget>().GetProcessId());
        refused = await Assert.ThrowsAsync<RpcException>(async () => await TestEnvironment.ConnectAsync(ServiceNames.Kill));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
    }

    [Fact]
    public async Task StoppingTheHost_LetsACallInFlightFinish_WithinTheGracePeriod()
    {
        string settings = Path.Combine(TestEnvironment.RuntimeDirectory, $"hosting-{Tags.Next()}.json");
        File.WriteAllText(settings, """{ "Rpal": { "Server": { "ShutdownGracePeriod": "00:00:30" } } }""");
        using ServerProcess server = await ServerProcess.StartAsync("host", ServiceNames.Kill, "--settings", settings);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Kill);
        IKillTarget client = channel.CreateClient<IKillTarget>();
        int tag = Tags.Next();
        Task<int> call = client.HoldAsync(tag).AsTask();
        await server.WaitForEventAsync(ServerEvents.Held, tag);

        server.Send(ServerEvents.Stop); // the host stops: StopAsync waits for the held call
        await server.WaitForLineAsync(ServerEvents.Stopping);
        Assert.False(call.IsCompleted);
        Assert.False(server.HasWritten(ServerEvents.Stopped), "the host stopped with a call in flight");

        server.Send($"{ServerEvents.Release} {tag}");
        Assert.Equal(tag, await call.WaitAsync(ServerProcess.EventTimeout));
        string stopped = await server.WaitForLineAsync(l => l.StartsWith(ServerEvents.Stopped + " ", StringComparison.Ordinal), ServerProcess.EventTimeout, "stopped");
        long ms = long.Parse(stopped.AsSpan(ServerEvents.Stopped.Length + 1), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(ms < 30_000, $"the host's stop took {ms} ms: it waited out the grace period instead of the call");
        Assert.Equal(0, await server.WaitForExitAsync(ServerProcess.EventTimeout));
    }
}

/// <summary>
/// A typed client from AddRpalClient in this process, against host-mode servers that are killed
/// and restarted: the same singleton connects again, calls on the dead connection fail.
/// </summary>
public sealed class HostingClientReconnectTests
{
    [Fact]
    public async Task TypedClient_AfterTheServerIsKilledAndRestarted_ConnectsAgain()
    {
        using IHost host = ClientHost(o => o.ReconnectDelay = TimeSpan.Zero);
        IKillTarget client = host.Services.GetRequiredService<IKillTarget>();
        Assert.Same(client, host.Services.GetRequiredService<IKillTarget>());

        // the first call connects
        using (ServerProcess first = await ServerProcess.StartAsync("host", ServiceNames.Kill))
        {
            Assert.Equal(first.Id, client.GetProcessId());

            // a call in flight when the server dies fails with Unavailable, and is not retried
            int tag = Tags.Next();
            Task<int> held = client.HoldAsync(tag).AsTask();
            await first.WaitForEventAsync(ServerEvents.Held, tag);
            first.Kill();
            RpcException inFlight = await Assert.ThrowsAsync<RpcException>(() => held.WaitAsync(ServerProcess.EventTimeout));
            Assert.Equal(StatusCode.Unavailable, inFlight.StatusCode);
            await first.WaitForExitAsync(ServerProcess.EventTimeout);
        }

        // no server: the reconnect fails, with Unavailable
        Assert.Equal(StatusCode.Unavailable, Assert.Throws<RpcException>(() => client.GetProcessId()).StatusCode);

        using (ServerProcess second = await ServerProcess.StartAsync("host", ServiceNames.Kill))
        {
            Assert.Equal(second.Id, client.GetProcessId()); // the same client object, a new connection

            // killed with no call in flight: the next call, on the dead connection, fails
            second.Kill();
            await second.WaitForExitAsync(ServerProcess.EventTimeout);
            Assert.Equal(StatusCode.Unavailable, Assert.Throws<RpcException>(() => client.GetProcessId()).StatusCode);
        }

        using ServerProcess third = await ServerProcess.StartAsync("host", ServiceNames.Kill);
        Assert.Equal(third.Id, client.GetProcessId());

        // a stream takes the current connection when its enumeration starts
        long last = -1;
        using var timeout = new CancellationTokenSource(ServerProcess.EventTimeout);
        await foreach (long element in client.StreamForever(Tags.Next()).WithCancellation(timeout.Token))
        {
            last = element;
            if (element == 2)
            {
                break;
            }
        }

        Assert.Equal(2, last);
    }

    [Fact]
    public async Task TypedClient_AfterAFailedConnect_DoesNotTryAgainBeforeTheReconnectDelay()
    {
        using IHost host = ClientHost(o => o.ReconnectDelay = TimeSpan.FromHours(1));
        IKillTarget client = host.Services.GetRequiredService<IKillTarget>();

        RpcException failed = Assert.Throws<RpcException>(() => client.GetProcessId()); // no server yet
        Assert.Equal(StatusCode.Unavailable, failed.StatusCode);

        using ServerProcess server = await ServerProcess.StartAsync("host", ServiceNames.Kill);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Kill);
        Assert.Equal(server.Id, channel.CreateClient<IKillTarget>().GetProcessId()); // the server is there

        // but the client waits out its delay: it fails at once, without a connect
        RpcException waiting = Assert.Throws<RpcException>(() => client.GetProcessId());
        Assert.Equal(StatusCode.Unavailable, waiting.StatusCode);
        Assert.Contains("ReconnectDelay", waiting.Status.Detail, StringComparison.Ordinal);
        RpcException waitingAsync = await Assert.ThrowsAsync<RpcException>(() => client.HoldAsync(Tags.Next()).AsTask());
        Assert.Equal(StatusCode.Unavailable, waitingAsync.StatusCode);
    }

    private static IHost ClientHost(Action<RpalClientOptions> configure)
    {
        TestEnvironment.EnsureEngine(); // this process's engine: the shared runtime directory
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddRpalClient<IKillTarget>(ServiceNames.Kill).ConfigureClient(configure);
        return builder.Build();
    }
}
