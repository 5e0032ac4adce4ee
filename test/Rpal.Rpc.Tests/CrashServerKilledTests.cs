using System.Diagnostics;
using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Rpal.Rpc.Tests;

/// <summary>
/// A server killed with SIGKILL while a thousand calls wait in it: every one of them fails with
/// Unavailable within 100 ms of the kill and none hangs; a restarted server is reached by a new
/// connect.
/// </summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class CrashServerKilledTests(ITestOutputHelper output)
{
    private const int Calls = 1000;
    private const int ChannelCount = 4;
    private static readonly TimeSpan s_bound = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task KillingTheServerWith1000CallsInFlight_FailsEveryCallWithUnavailable_Within100Ms()
    {
        var channels = new List<RpalChannel>();
        try
        {
            int firstId;
            using (ServerProcess server = await ServerProcess.StartAsync(ServiceNames.CrashServer))
            {
                firstId = server.Id;
                for (int i = 0; i < ChannelCount; i++)
                {
                    // all 1,000 in flight at once: past the channel's default limit (128)
                    channels.Add(await TestEnvironment.ConnectAsync(ServiceNames.CrashServer, new RpalChannelOptions { MaxConcurrentCalls = Calls }));
                }

                ICrashServerTarget[] clients = [.. channels.Select(c => c.CreateClient<ICrashServerTarget>())];
                var calls = new Task<int>[Calls];
                var ended = new Task<long>[Calls];
                var threads = new (int Thread, bool Pool)[Calls];
                var tags = new int[Calls];
                for (int i = 0; i < Calls; i++)
                {
                    tags[i] = Tags.Next();
                    calls[i] = clients[i % ChannelCount].HoldAsync(tags[i]).AsTask();

                    // the time the call failed, taken on the thread that failed it
                    int index = i;
                    ended[i] = calls[i].ContinueWith(
                        _ =>
                        {
                            threads[index] = (Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread);
                            return Stopwatch.GetTimestamp();
                        },
                        CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }

                foreach (int tag in tags)
                {
                    await server.WaitForEventAsync(ServerEvents.Held, tag);
                }

                Assert.DoesNotContain(calls, c => c.IsCompleted);

                long killedAt = Stopwatch.GetTimestamp();
                server.Kill();

                // none hangs
                long[] endedAt = await Task.WhenAll(ended).WaitAsync(ServerProcess.EventTimeout);

                foreach (Task<int> call in calls)
                {
                    RpcException e = await Assert.ThrowsAsync<RpcException>(() => call);
                    Assert.Equal(StatusCode.Unavailable, e.StatusCode);
                }

                string perChannel = string.Join("; ", Enumerable.Range(0, ChannelCount).Select(c =>
                {
                    double[] t = [.. Enumerable.Range(0, Calls).Where(i => i % ChannelCount == c).Select(i => Stopwatch.GetElapsedTime(killedAt, endedAt[i]).TotalMilliseconds).Order()];
                    return $"channel {c}: {t[0]:F1}..{t[^1]:F1} ms";
                }));
                string byThread = string.Join(", ", threads.GroupBy(t => t).Select(g => $"thread {g.Key.Thread}{(g.Key.Pool ? " (pool)" : "")}: {g.Count()}"));
                double[] ms = [.. endedAt.Order().Select(t => Stopwatch.GetElapsedTime(killedAt, t).TotalMilliseconds)];
                output.WriteLine($"{Calls} calls failed {ms[0]:F1} to {ms[^1]:F1} ms after the kill (median {ms[Calls / 2]:F1} ms); {perChannel}; {byThread}");
                Assert.True(
                    ms[^1] < s_bound.TotalMilliseconds,
                    $"the last of {Calls} calls failed {ms[^1]:F1} ms after the kill (first {ms[0]:F1} ms, median {ms[Calls / 2]:F1} ms, 90th {ms[Calls * 9 / 10]:F1} ms; {perChannel}; {byThread})");
            }

            // a restarted server for the same name is reached by a new connect
            using ServerProcess restarted = await ServerProcess.StartAsync(ServiceNames.CrashServer);
            await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.CrashServer);
            int id = channel.CreateClient<ICrashServerTarget>().GetProcessId();
            Assert.Equal(restarted.Id, id);
            Assert.NotEqual(firstId, id);
        }
        finally
        {
            foreach (RpalChannel channel in channels)
            {
                await channel.DisposeAsync();
            }
        }
    }
}
