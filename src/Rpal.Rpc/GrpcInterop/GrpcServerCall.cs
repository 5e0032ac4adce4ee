using Grpc.Core;

namespace Rpal.Rpc.GrpcInterop;

/// <summary>What a call carried by grpc-dotnet brings to a generated dispatcher, and its result.</summary>
internal sealed class GrpcServerCall(
    ServerCallContext context,
    string serviceName,
    string methodFullName,
    byte[] request,
    IAsyncStreamReader<byte[]>? requests,
    IServerStreamWriter<byte[]>? responses)
{
    public ServerCallContext Context { get; } = context;

    public string ServiceName { get; } = serviceName;

    public string MethodFullName { get; } = methodFullName;

    public byte[] Request { get; } = request;

    public IAsyncStreamReader<byte[]>? Requests { get; } = requests;

    public IServerStreamWriter<byte[]>? Responses { get; } = responses;

    /// <summary>The response body; an RpcException for any other status.</summary>
    public TaskCompletionSource<byte[]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
