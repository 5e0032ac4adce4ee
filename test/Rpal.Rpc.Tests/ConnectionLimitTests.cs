using System.Diagnostics;
using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Rpal.Rpc.Tests;

/// <summary>
/// The limits on how many clients a server takes hold at their defaults, and a client past one
/// is told which (ResourceExhausted, the limit named), while the clients connected keep their
/// full service: the connection limit (1,024 by default, which the default arena holds with room
/// left for replies) and the open-file limit (the engine keeps a reserve of fds). In the
/// non-parallel collection: its servers serve the Backpressure service's name, and a thousand
/// connections are no time to share the two cores.
/// </summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class ConnectionLimitTests(ITestOutputHelper output)
{
    private const int DefaultLimit = 1024; // RpalServerOptions.MaxConnectionsPerService
    private const int Payload = 4096;

    // Parked waits: a thousand connections are not what spinning is for.
    private static readonly ChildLaunch s_noSpin = new([], new Dictionary<string, string> { ["RPAL_SPIN_NS"] = "0" });

    [Fact]
    public async Task AtTheDefaultConnectionLimit_EveryClientGetsPayloadReplies_AndTheNextIsRefusedNamingTheLimit()
    {
        using ServerProcess server = await ServerProcess.StartAsync(s_noSpin, ServiceNames.Backpressure);
        var channels = new List<RpalChannel>(DefaultLimit);
        try
        {
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < DefaultLimit; i++)
            {
                channels.Add(await TestEnvironment.ConnectAsync(ServiceNames.Backpressure));
            }

            TimeSpan connecting = watch.Elapsed;
            RpcException e = await Assert.ThrowsAsync<RpcException>(() => TestEnvironment.ConnectAsync(ServiceNames.Backpressure).AsTask());
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            Assert.Contains("MaxConnectionsPerService", e.Status.Detail, StringComparison.Ordinal);
            Assert.Contains("EUSERS", e.Status.Detail, StringComparison.Ordinal);

            // every client at the limit is answered with a payload from the server's arena
            watch.Restart();
            foreach (RpalChannel channel in channels)
            {
                Assert.Equal(Payload, channel.CreateClient<IBackpressureService>().Make(Payload).Length);
            }

            output.WriteLine($"{DefaultLimit} clients connected in {connecting.TotalMilliseconds:0} ms, answered with {Payload} bytes each in {watch.Elapsed.TotalMilliseconds:0} ms");
        }
        finally
        {
            foreach (RpalChannel channel in channels)
            {
                await channel.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task PastTheServersFileDescriptorReserve_ClientsAreRefusedWithResourceExhausted_AndTheServerServesOn()
    {
        // an idle server holds about 70 fds; 160 (soft and hard, so that the runtime cannot raise
        // it) leaves room for a few dozen clients
        var launch = new ChildLaunch(["/bin/sh", "-c", "ulimit -n 160 && exec \"$0\" \"$@\""], s_noSpin.Environment);
        using ServerProcess server = await ServerProcess.StartAsync(launch, ServiceNames.Backpressure);
        await using RpalChannel first = await TestEnvironment.ConnectAsync(ServiceNames.Backpressure);
        IBackpressureService client = first.CreateClient<IBackpressureService>();
        Assert.Equal(Payload, client.Make(Payload).Length);

        var flood = new List<RpalChannel>();
        int refused = 0;
        try
        {
            for (int i = 0; i < 100; i++)
            {
                try
                {
                    flood.Add(await TestEnvironment.ConnectAsync(ServiceNames.Backpressure));
                }
                catch (RpcException e)
                {
                    Assert.True(e.StatusCode == StatusCode.ResourceExhausted, $"{e.Status}\n{server.Diagnostics}");
                    Assert.Contains("RLIMIT_NOFILE", e.Status.Detail, StringComparison.Ordinal);
                    refused++;
                }
            }

            output.WriteLine($"server under RLIMIT_NOFILE 160: {flood.Count} of 100 more clients connected, {refused} refused");
            Assert.True(refused > 0, "the server took every client");
            Assert.NotEmpty(flood);

            // the first client and those connected are served; the server stops when asked
            Assert.Equal(Payload, client.Make(Payload).Length);
            foreach (RpalChannel channel in flood)
            {
                Assert.Equal(7, channel.CreateClient<IBackpressureService>().Echo(7));
            }
        }
        finally
        {
            foreach (RpalChannel channel in flood)
            {
                await channel.DisposeAsync();
            }
        }

        Assert.Equal(Payload, client.Make(Payload).Length);
        server.Send(ServerEvents.Stop);
        await server.WaitForLineAsync(l => l.StartsWith(ServerEvents.Stopped + " ", StringComparison.Ordinal), ServerProcess.EventTimeout, ServerEvents.Stopped);
    }
}
