using Rpal.Rpc.Generated;

namespace Rpal.Rpc.GrpcInterop;

/// <summary>A service from a <see cref="Grpc.Core.ServerServiceDefinition"/>, as the server hosts it.</summary>
internal sealed class GrpcServiceDescriptor(string serviceName, IReadOnlyList<RpalMethod> methods)
    : RpalServiceDescriptor(serviceName, methods)
{
    public override Type ServiceType => typeof(global::Grpc.Core.ServerServiceDefinition);
}

/// <summary>Serves a <see cref="Grpc.Core.ServerServiceDefinition"/>'s methods by Rpal method id.</summary>
internal sealed class GrpcServiceDispatcher(Dictionary<uint, Action<RpalServerCall>> handlers) : RpalServiceDispatcher
{
    public override void Dispatch(RpalServerCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (handlers.TryGetValue(call.MethodId, out Action<RpalServerCall>? handler))
        {
            handler(call);
        }
        else
        {
            call.CompleteUnimplemented();
        }
    }
}
