using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// The registry entry of a server killed with SIGKILL is taken over by the next server for its
/// name without any manual step, and of two servers racing for one name exactly one wins while
/// the other fails with a clear error. Each test has its own servers.
/// </summary>
public sealed class CrashRegistryTests
{
    private const int Races = 3;

    [Fact]
    public async Task AServerStartedAtOnceAfterAKill_TakesOverTheStaleEntry_AndClientsReachIt()
    {
        int firstId;
        using (ServerProcess first = await ServerProcess.StartAsync(ServiceNames.CrashRegistry))
        {
            firstId = first.Id;
            await using (RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.CrashRegistry))
            {
                Assert.Equal(firstId, channel.CreateClient<ICrashRegistryTarget>().GetProcessId());
            }

            first.Kill(); // and without waiting for it to be gone:
        }

        using ServerProcess second = await ServerProcess.StartAsync(ServiceNames.CrashRegistry);
        await using RpalChannel reconnected = await TestEnvironment.ConnectAsync(ServiceNames.CrashRegistry);
        int id = reconnected.CreateClient<ICrashRegistryTarget>().GetProcessId();
        Assert.Equal(second.Id, id);
        Assert.NotEqual(firstId, id);
    }

    [Fact]
    public async Task TwoServersRacingForOneName_ExactlyOneWins_TheOtherFailsWithAClearError()
    {
        for (int race = 0; race < Races; race++)
        {
            using ServerProcess a = ServerProcess.Launch(ServiceNames.CrashRegistry);
            using ServerProcess b = ServerProcess.Launch(ServiceNames.CrashRegistry);
            string[] outcomes = await Task.WhenAll(OutcomeAsync(a), OutcomeAsync(b));

            Assert.True(
                outcomes.Count(o => o == ServerEvents.Ready) == 1,
                $"race {race}: expected one winner, got '{outcomes[0]}' and '{outcomes[1]}'\n{a.Diagnostics}\n{b.Diagnostics}");
            (ServerProcess winner, ServerProcess loser, string error) =
                outcomes[0] == ServerEvents.Ready ? (a, b, outcomes[1]) : (b, a, outcomes[0]);

            Assert.StartsWith(ServerEvents.Error + " ", error, StringComparison.Ordinal);
            Assert.Contains(ServiceNames.CrashRegistry, error, StringComparison.Ordinal);
            Assert.Contains("another live process serves it", error, StringComparison.Ordinal);
            Assert.Equal(3, await loser.WaitForExitAsync(ServerProcess.EventTimeout));

            await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.CrashRegistry);
            Assert.Equal(winner.Id, channel.CreateClient<ICrashRegistryTarget>().GetProcessId());
        }
    }

    /// <summary>"ready", or the "error MESSAGE" line the server failed with.</summary>
    private static Task<string> OutcomeAsync(ServerProcess server) =>
        server.WaitForLineAsync(
            l => l == ServerEvents.Ready || l.StartsWith(ServerEvents.Error + " ", StringComparison.Ordinal),
            ServerProcess.StartTimeout,
            "ready or error");
}
