using System.Diagnostics;
using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>A server killed mid-stream: the client's stream ends with Unavailable at once. Own server.</summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class StreamingServerDeathTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task KillingTheServerMidStream_EndsTheStreamWithUnavailable_Within100Ms()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Kill);
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Kill);
        IKillTarget client = channel.CreateClient<IKillTarget>();
        int tag = Tags.Next();
        await using IAsyncEnumerator<long> stream = client.StreamForever(tag).GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync());
        await server.WaitForEventAsync(ServerEvents.Held, tag);

        // keep reading while the server dies: the stream must end, not stall
        Task<long> reading = Task.Run(async () =>
        {
            try
            {
                while (await stream.MoveNextAsync())
                {
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                return Stopwatch.GetTimestamp();
            }

            throw new InvalidOperationException("the stream ended without an error");
        });

        long killedAt = Stopwatch.GetTimestamp();
        server.Kill();
        long endedAt = await reading.WaitAsync(ServerProcess.EventTimeout);
        TimeSpan took = Stopwatch.GetElapsedTime(killedAt, endedAt);
        Assert.True(took < s_bound, $"the stream ended {took.TotalMilliseconds:F1} ms after the kill");
    }
}
