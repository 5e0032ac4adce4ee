using Grpc.Core;
using Rpal.Rpc.Generated;

namespace Rpal.Rpc.GrpcInterop;

/// <summary>How a gRPC method is named on the Rpal wire.</summary>
internal static class GrpcMethods
{
    /// <summary>
    /// The Rpal method of a gRPC method: its id is that of the equivalent [RpalService] method,
    /// <c>Name(RequestType)</c>, or <c>Name(System.Collections.Generic.IAsyncEnumerable&lt;RequestType&gt;)</c>
    /// when the client streams (docs/wire.md, "Method ids").
    /// </summary>
    public static RpalMethod ToRpal<TRequest, TResponse>(Method<TRequest, TResponse> method)
    {
        string request = TypeName(typeof(TRequest));
        if (method.Type is MethodType.ClientStreaming or MethodType.DuplexStreaming)
        {
            request = $"System.Collections.Generic.IAsyncEnumerable<{request}>";
        }

        uint id = RpalMethod.ComputeId($"{method.Name}({request})");
        return new RpalMethod(method.ServiceName, method.Name, id, method.Type);
    }

    private static string TypeName(Type type) => (type.FullName ?? type.Name).Replace('+', '.');
}
