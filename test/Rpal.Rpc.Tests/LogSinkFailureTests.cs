using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// A log sink that throws does not take a server's receiver down: not Console.Error (the engine's
/// reports go there when RPAL_LOG is set and nobody subscribed; it throws when the process is out
/// of fds, or when an application replaced it), not an ILogger of the server's
/// <see cref="RpalServerOptions.LoggerFactory"/>. Each server refuses a client past its
/// connection limit (a report logged on the receiver thread) and must go on serving. In the
/// non-parallel collection: its servers serve the Backpressure service's name.
/// </summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class LogSinkFailureTests
{
    [Theory]
    [InlineData("--throwing-stderr")]
    [InlineData("--throwing-logger")]
    public async Task AThrowingLogSink_DoesNotStopTheServerFromAcceptingAndServing(string sink)
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Backpressure, "--max-connections", "1", sink);
        RpalChannel first = await TestEnvironment.ConnectAsync(ServiceNames.Backpressure);
        var deadline = new CallOptions(deadline: DateTime.UtcNow.Add(ServerProcess.EventTimeout));
        try
        {
            Assert.Equal(1, first.CreateClient<IBackpressureService>(deadline).Echo(1));
            for (int i = 0; i < 3; i++)
            {
                RpcException e = await Assert.ThrowsAsync<RpcException>(() => TestEnvironment.ConnectAsync(ServiceNames.Backpressure).AsTask());
                Assert.True(e.StatusCode == StatusCode.ResourceExhausted, $"{e.Status}\n{server.Diagnostics}");
            }

            Assert.Equal(2, first.CreateClient<IBackpressureService>(deadline).Echo(2));
        }
        finally
        {
            await first.DisposeAsync();
        }

        // the slot frees once the server notices the hang-up: try until it has, within a bound
        var waited = System.Diagnostics.Stopwatch.StartNew();
        RpalChannel? next = null;
        while (next is null)
        {
            try
            {
                next = await TestEnvironment.ConnectAsync(ServiceNames.Backpressure);
            }
            catch (RpcException retry) when (retry.StatusCode == StatusCode.ResourceExhausted && waited.Elapsed < ServerProcess.EventTimeout)
            {
                await Task.Delay(10); // the server's progress cannot be waited on from here
            }
        }

        await using (next)
        {
            Assert.Equal(3, next.CreateClient<IBackpressureService>(deadline).Echo(3));
        }
    }
}
