using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>Request headers reach the handler's context; trailers the handler sets reach the caller.</summary>
[Collection(SharedServerDefinition.Name)]
public sealed class MetadataTests(SharedServerFixture fixture)
{
    private static readonly byte[] s_binary = [0, 1, 2, 0xFE, 0xFF];

    private readonly IMetadataService _client = fixture.Client<IMetadataService>();

    [Fact]
    public void HeadersFromCallOptions_ReachTheHandler()
    {
        var headers = new Metadata { { "tenant", "blue" }, { "trace-bin", s_binary } };
        IMetadataService client = fixture.Channel(ServiceNames.Metadata).CreateClient<IMetadataService>(new CallOptions(headers: headers));
        Assert.Equal("blue", client.GetHeader("tenant"));
        Assert.Equal(s_binary, client.GetBinaryHeader("trace-bin"));
        Assert.Equal(2, client.CountHeaders());
    }

    [Fact]
    public async Task HeadersOfACallScope_ReachTheHandler_OnlyInTheScope()
    {
        using (new RpalCallScope(new Metadata { { "tenant", "green" } }))
        {
            Assert.Equal("green", _client.GetHeader("tenant"));
            Assert.Equal(7, await _client.SetTrailerAfterYieldAsync("k", "v")); // an async call in the scope
            Assert.Equal("green", await Task.Run(() => _client.GetHeader("tenant"))); // the scope flows
        }

        Assert.Null(_client.GetHeader("tenant"));
        Assert.Equal(0, _client.CountHeaders());
    }

    [Fact]
    public void TrailersSetByTheHandler_ReachTheCallScope()
    {
        using var scope = new RpalCallScope();
        Assert.Equal(7, _client.SetTrailer("served-by", "test-server"));
        Assert.Equal("test-server", scope.ResponseTrailers?.GetValue("served-by"));
        Assert.Equal(StatusCode.OK, scope.Status.StatusCode);
    }

    [Fact]
    public async Task TrailersSetAfterSuspending_ReachTheCallScope()
    {
        using var scope = new RpalCallScope();
        Assert.Equal(7, await _client.SetTrailerAfterYieldAsync("served-by", "later"));
        Assert.Equal("later", scope.ResponseTrailers?.GetValue("served-by"));
    }

    [Fact]
    public void ACallWithoutTrailers_LeavesTheScopesTrailersEmpty()
    {
        using var scope = new RpalCallScope();
        _client.SetTrailer("a", "b");
        Assert.Null(_client.GetHeader("none"));
        Assert.True(scope.ResponseTrailers is null or { Count: 0 });
    }

    [Fact]
    public void TrailersOfAFailedCall_ReachRpcExceptionAndTheScope()
    {
        using var scope = new RpalCallScope();
        RpcException e = Assert.Throws<RpcException>(() => _client.SetTrailerThenThrow("why", "tests", "failed on purpose"));
        Assert.Equal(StatusCode.Unknown, e.StatusCode);
        Assert.Equal("failed on purpose", e.Status.Detail);
        Assert.Equal("tests", e.Trailers.GetValue("why"));
        Assert.Equal("tests", scope.ResponseTrailers?.GetValue("why"));
        Assert.Equal(StatusCode.Unknown, scope.Status.StatusCode);
    }

    [Fact]
    public void TheHandlersContext_NamesTheMethodAndTheCaller()
    {
        string[] parts = _client.DescribeContext().Split('|');
        Assert.Equal($"/{ServiceNames.Metadata}/{nameof(IMetadataService.DescribeContext)}", parts[0]);
        Assert.StartsWith($"rpal:pid={Environment.ProcessId},", parts[1], StringComparison.Ordinal);
        Assert.Equal("localhost", parts[2]);
    }
}
