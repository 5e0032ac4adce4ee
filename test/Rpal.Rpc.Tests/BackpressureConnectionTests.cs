using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// Connections per service (<see cref="RpalServerOptions.MaxConnectionsPerService"/>): one past
/// the limit fails to connect with ResourceExhausted, and connects once another has left. In
/// the non-parallel collection: its server serves the same name as <see cref="BackpressureTests"/>'.
/// </summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class BackpressureConnectionTests
{
    [Fact]
    public async Task AConnectionPastTheServicesLimit_FailsWithResourceExhausted_UntilOneLeaves()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Backpressure, "--max-connections", "2");
        RpalChannel first = await TestEnvironment.ConnectAsync(ServiceNames.Backpressure);
        await using RpalChannel second = await TestEnvironment.ConnectAsync(ServiceNames.Backpressure);
        try
        {
            RpcException e = await Assert.ThrowsAsync<RpcException>(() => TestEnvironment.ConnectAsync(ServiceNames.Backpressure).AsTask());
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            Assert.Equal(2, second.CreateClient<IBackpressureService>().Echo(2));
        }
        finally
        {
            await first.DisposeAsync();
        }

        // the server frees the slot when it notices the hang-up: try until it has, within a bound
        var waited = System.Diagnostics.Stopwatch.StartNew();
        RpalChannel? third = null;
        while (third is null)
        {
            try
            {
                third = await TestEnvironment.ConnectAsync(ServiceNames.Backpressure);
            }
            catch (RpcException retry) when (retry.StatusCode == StatusCode.ResourceExhausted && waited.Elapsed < ServerProcess.EventTimeout)
            {
                await Task.Delay(10);
            }
        }

        await using (third)
        {
            Assert.Equal(3, third.CreateClient<IBackpressureService>().Echo(3));
        }
    }
}
