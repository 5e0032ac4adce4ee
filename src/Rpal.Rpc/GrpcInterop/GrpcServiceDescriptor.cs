using Rpal.Rpc.Generated;

namespace Rpal.Rpc.GrpcInterop;

/// <summary>A service from a <see cref="Grpc.Core.ServerServiceDefinition"/>, as the server hosts it.</summary>
internal sealed class GrpcServiceDescriptor(string serviceName, IReadOnlyList<RpalMethod> methods)
    : RpalServiceDescriptor(serviceName, methods)
{
    public override Type ServiceType => typeof(global::Grpc.Core.ServerServiceDefinition);
}
