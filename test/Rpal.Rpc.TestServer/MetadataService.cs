using Grpc.Core;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

internal sealed class MetadataService : IMetadataService
{
    private static RpalServerCallContext Context =>
        RpalServerCallContext.Current ?? throw new InvalidOperationException("RpalServerCallContext.Current is null in a handler.");

    public string? GetHeader(string key) => Context.RequestHeaders.GetValue(key);

    public byte[]? GetBinaryHeader(string key) => Context.RequestHeaders.GetValueBytes(key);

    public int CountHeaders() => Context.RequestHeaders.Count;

    public int SetTrailer(string key, string value)
    {
        Context.ResponseTrailers.Add(key, value);
        return 7;
    }

    public async ValueTask<int> SetTrailerAfterYieldAsync(string key, string value)
    {
        RpalServerCallContext context = Context; // Current is only set until the first await
        await Task.Yield();
        context.ResponseTrailers.Add(key, value);
        return 7;
    }

    public void SetTrailerThenThrow(string key, string value, string message)
    {
        Context.ResponseTrailers.Add(key, value);
        throw new InvalidOperationException(message);
    }

    public string DescribeContext()
    {
        ServerCallContext context = Context;
        return $"{context.Method}|{context.Peer}|{context.Host}";
    }
}
