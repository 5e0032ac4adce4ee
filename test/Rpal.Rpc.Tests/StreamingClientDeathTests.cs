using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>A client process killed mid-stream: the server's token fires.</summary>
[Collection(SharedServerDefinition.Name)]
public sealed class StreamingClientDeathTests(SharedServerFixture fixture)
{
    [Fact]
    public async Task KillingTheClientMidStream_FiresTheServersToken()
    {
        int tag = Tags.Next();
        using ServerProcess client = await ServerProcess.StartAsync("stream-client", tag.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await fixture.Server.WaitForEventAsync(ServerEvents.Held, tag);
        client.Kill();
        await fixture.Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }
}
