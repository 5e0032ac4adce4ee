using System.Globalization;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Rpal.Rpc.Tests;

/// <summary>
/// Client processes killed with SIGKILL, a hundred of them, against one server: the server fires
/// their calls' tokens, drops their connections and frees what they held (descriptors, mappings,
/// memory), the engine gives their slots to later processes, and the server keeps serving. The
/// server counts its own resources (<see cref="ICrashProbe.GetResources"/>).
/// </summary>
public sealed class CrashClientKilledTests(ITestOutputHelper output)
{
    private const int Kills = 100;
    private const int AtATime = 5;
    private const int WarmUpKills = 10;

    // After warm-up the server's counts may move by what the runtime itself does now and then,
    // not by anything per client: tiered JIT keeps adding code-heap mappings (/memfd:doublemapper,
    // about 15 over these 90 kills on a 2-core machine; no Rpal arena or ring mapping stays).
    private const int FdTolerance = 4;
    private const int MappingTolerance = 40;
    private const long RssToleranceBytes = 32L << 20; // 90 clients' 64 KiB requests and arenas would exceed it

    private static readonly TimeSpan s_settleTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task KillingClientProcesses_FreesTheirConnectionsDescriptorsMappingsAndSlots_InTheServer()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.CrashClients);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.CrashClients);
        ICrashClientsTarget probe = channel.CreateClient<ICrashClientsTarget>();
        var slots = new List<int>();
        ServerResources warm = default;

        for (int killed = 0; killed < Kills; killed += AtATime)
        {
            int[] tags = [.. Enumerable.Range(0, AtATime).Select(_ => Tags.Next())];
            ServerProcess[] clients = await Task.WhenAll(
                tags.Select(t => ServerProcess.StartAsync("crash-client", t.ToString(CultureInfo.InvariantCulture))));
            try
            {
                foreach (ServerProcess client in clients)
                {
                    string line = await client.WaitForLineAsync(l => l.StartsWith("slot ", StringComparison.Ordinal), ServerProcess.EventTimeout, "slot");
                    slots.Add(int.Parse(line.AsSpan("slot ".Length), CultureInfo.InvariantCulture));
                }

                foreach (int tag in tags)
                {
                    await server.WaitForEventAsync(ServerEvents.Held, tag);
                }

                foreach (ServerProcess client in clients)
                {
                    client.Kill();
                }

                foreach (int tag in tags)
                {
                    await server.WaitForEventAsync(ServerEvents.TokenFired, tag);
                }

                foreach (ServerProcess client in clients)
                {
                    await client.WaitForExitAsync(ServerProcess.EventTimeout);
                }
            }
            finally
            {
                foreach (ServerProcess client in clients)
                {
                    client.Dispose();
                }
            }

            if (killed + AtATime == WarmUpKills)
            {
                warm = await SettledAsync(probe, server);
            }
        }

        ServerResources end = await SettledAsync(probe, server);
        string numbers = $"after {WarmUpKills} kills: {warm}; after {Kills}: {end}";
        output.WriteLine(numbers);
        output.WriteLine($"slots of the client processes: {string.Join(' ', slots)}");
        Assert.True(end.OpenFds <= warm.OpenFds + FdTolerance, $"the server's descriptors grew: {numbers}");
        Assert.True(end.Mappings <= warm.Mappings + MappingTolerance, $"the server's mappings grew: {numbers}");
        Assert.True(end.ResidentBytes - warm.ResidentBytes < RssToleranceBytes, $"the server's resident memory grew: {numbers}");

        // The slots of dead processes are given out again: 100 processes did not take 100 slots
        // (the window has 256 by default, so without reuse this many would still fit).
        int distinct = slots.Distinct().Count();
        Assert.True(distinct <= Kills / 2, $"{Kills} client processes took {distinct} different slots: {string.Join(' ', slots)}");

        // and the server still serves, payloads included
        byte[] data = new byte[64 * 1024];
        Random.Shared.NextBytes(data);
        Assert.Equal(Checksums.Fnv1a64(data), probe.Checksum(data));
        Assert.Equal(48 * 1024, probe.Fill(48 * 1024, 7).Length);
    }

    /// <summary>The server's counts once only this test's own channel is connected to it.</summary>
    private static async Task<ServerResources> SettledAsync(ICrashClientsTarget probe, ServerProcess server)
    {
        using var timeout = new CancellationTokenSource(s_settleTimeout);
        ServerResources now = probe.GetResources();
        while (now.Connections > 1)
        {
            Assert.False(timeout.IsCancellationRequested, $"the server still counts {now.Connections} connections\n{server.Diagnostics}");
            await Task.Delay(10, CancellationToken.None); // polls the condition, bounded by the timeout
            now = probe.GetResources();
        }

        return now;
    }
}
