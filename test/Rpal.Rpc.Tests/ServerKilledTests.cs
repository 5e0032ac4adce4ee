using System.Diagnostics;
using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// A server killed with SIGKILL: the calls in flight fail with Unavailable within 100 ms, later
/// calls fail at once, and a restarted server is reachable again. Each test has its own server.
/// </summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class ServerKilledTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task KillingTheServerMidCall_FailsTheCallsInFlightWithUnavailable_Within100Ms()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Kill);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Kill);
        IKillTarget client = channel.CreateClient<IKillTarget>();
        Assert.Equal(server.Id, client.GetProcessId());

        // An asynchronous call first (its handler suspends), then a synchronous one on its own
        // thread (its handler blocks the server's receiver thread).
        int asyncTag = Tags.Next(), syncTag = Tags.Next();
        Task<int> asyncCall = client.HoldAsync(asyncTag).AsTask();
        // the time the call failed, taken on the thread that failed it (not when the thread pool
        // got round to a continuation: a busy pool in this test process would be measured too)
        Task<long> asyncEnded = asyncCall.ContinueWith(
            _ => Stopwatch.GetTimestamp(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        await server.WaitForEventAsync(ServerEvents.Held, asyncTag);

        var syncEnded = new TaskCompletionSource<(Exception? Error, long At)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var caller = new Thread(() =>
        {
            try
            {
                client.Hold(syncTag);
                syncEnded.SetResult((null, Stopwatch.GetTimestamp()));
            }
            catch (Exception e)
            {
                syncEnded.SetResult((e, Stopwatch.GetTimestamp()));
            }
        })
        { IsBackground = true };
        caller.Start();
        await server.WaitForEventAsync(ServerEvents.Held, syncTag);

        long killedAt = Stopwatch.GetTimestamp();
        server.Kill();

        long asyncAt = await asyncEnded.WaitAsync(ServerProcess.EventTimeout);
        (Exception? syncError, long syncAt) = await syncEnded.Task.WaitAsync(ServerProcess.EventTimeout);

        RpcException asyncError = await Assert.ThrowsAsync<RpcException>(() => asyncCall);
        Assert.Equal(StatusCode.Unavailable, asyncError.StatusCode);
        Assert.Equal(StatusCode.Unavailable, Assert.IsType<RpcException>(syncError).StatusCode);
        TimeSpan asyncTook = Stopwatch.GetElapsedTime(killedAt, asyncAt), syncTook = Stopwatch.GetElapsedTime(killedAt, syncAt);
        Assert.True(asyncTook < s_bound, $"the async call failed {asyncTook.TotalMilliseconds:F1} ms after the kill");
        Assert.True(syncTook < s_bound, $"the sync call failed {syncTook.TotalMilliseconds:F1} ms after the kill");
    }

    [Fact]
    public async Task AfterTheServerDied_CallsFailWithUnavailable()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Kill);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Kill);
        IKillTarget client = channel.CreateClient<IKillTarget>();
        Assert.Equal(server.Id, client.GetProcessId());

        server.Kill();
        await server.WaitForExitAsync(ServerProcess.EventTimeout);

        Assert.Equal(StatusCode.Unavailable, Assert.Throws<RpcException>(() => client.GetProcessId()).StatusCode);
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => client.HoldAsync(Tags.Next()).AsTask().WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
    }

    [Fact]
    public async Task AfterARestart_ANewConnectReachesTheNewServer()
    {
        int firstId;
        RpalChannel oldChannel;
        using (ServerProcess first = await ServerProcess.StartAsync(ServiceNames.Kill))
        {
            firstId = first.Id;
            oldChannel = await TestEnvironment.ConnectAsync(ServiceNames.Kill);
            Assert.Equal(firstId, oldChannel.CreateClient<IKillTarget>().GetProcessId());
            first.Kill();
            await first.WaitForExitAsync(ServerProcess.EventTimeout);
        }

        await using (oldChannel)
        {
            // the dead server's registration does not stop a new one from taking the name
            using ServerProcess second = await ServerProcess.StartAsync(ServiceNames.Kill);
            await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Kill);
            int id = channel.CreateClient<IKillTarget>().GetProcessId();
            Assert.Equal(second.Id, id);
            Assert.NotEqual(firstId, id);

            // the old channel stays dead
            RpcException e = Assert.Throws<RpcException>(() => oldChannel.CreateClient<IKillTarget>().GetProcessId());
            Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        }
    }
}
