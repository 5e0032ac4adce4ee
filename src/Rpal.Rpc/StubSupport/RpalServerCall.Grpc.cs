using Grpc.Core;

namespace Rpal.Rpc.Generated;

/// <summary>Calls that grpc-dotnet carries to a generated dispatcher (docs/cross-host.md).</summary>
public sealed partial class RpalServerCall
{
    internal RpalServerCall(GrpcInterop.GrpcServerCall grpc, uint methodId)
    {
        _grpc = grpc;
        MethodId = methodId;
    }

    /// <summary>The request body of a call that came over gRPC.</summary>
    private ReadOnlySpan<byte> GrpcRequest => _grpc!.Request;
}
