using Grpc.Core;

namespace Rpal.Rpc.GrpcInterop;

/// <summary>
/// Runs a gRPC method's marshallers (their contextual forms, which protoc's use) over Rpal
/// bodies; a marshaller's failure is the call's Internal status.
/// </summary>
internal static class GrpcMarshalling
{
    public static T Deserialize<T>(Marshaller<T> marshaller, ReadOnlyMemory<byte> payload)
    {
        try
        {
            return marshaller.ContextualDeserializer(new MemoryDeserializationContext(payload));
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"Cannot deserialize a {typeof(T).Name}: {e.Message}", e));
        }
    }

    public static ReadOnlyMemory<byte> Serialize<T>(Marshaller<T> marshaller, T value)
    {
        try
        {
            var context = new BufferSerializationContext();
            marshaller.ContextualSerializer(value, context);
            return context.Result;
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"Cannot serialize a {typeof(T).Name}: {e.Message}", e));
        }
    }
}
