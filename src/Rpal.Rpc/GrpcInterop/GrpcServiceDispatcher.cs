using Rpal.Rpc.Generated;

namespace Rpal.Rpc.GrpcInterop;

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
