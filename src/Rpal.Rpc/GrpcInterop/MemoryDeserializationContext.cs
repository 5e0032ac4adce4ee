using System.Buffers;
using Grpc.Core;

namespace Rpal.Rpc.GrpcInterop;

/// <summary>
/// Hands a marshaller the bytes of a message in place (for protobuf, parsed straight from the
/// peer's arena), and deserializes with the marshaller's contextual deserializer.
/// </summary>
internal sealed class MemoryDeserializationContext : DeserializationContext
{
    private ReadOnlyMemory<byte> _payload;

    public override int PayloadLength => _payload.Length;

    public static T Deserialize<T>(Marshaller<T> marshaller, ReadOnlyMemory<byte> payload)
    {
        var context = new MemoryDeserializationContext { _payload = payload };
        try
        {
            return marshaller.ContextualDeserializer(context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"Cannot deserialize a {typeof(T).Name}: {e.Message}", e));
        }
        finally
        {
            context._payload = default;
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

    public override byte[] PayloadAsNewBuffer() => _payload.ToArray();

    public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => new(_payload);
}

/// <summary>Collects what a marshaller's contextual serializer writes (protoc's write through a buffer writer).</summary>
internal sealed class BufferSerializationContext : SerializationContext
{
    private ArrayBufferWriter<byte>? _writer;
    private ReadOnlyMemory<byte>? _result;

    public ReadOnlyMemory<byte> Result =>
        _result ?? throw new InvalidOperationException("The marshaller did not complete its serialization.");

    public override void Complete(byte[] payload) => _result = payload;

    public override IBufferWriter<byte> GetBufferWriter() => _writer ??= new ArrayBufferWriter<byte>();

    public override void SetPayloadLength(int payloadLength) => _writer ??= new ArrayBufferWriter<byte>(Math.Max(payloadLength, 1));

    public override void Complete() => _result = _writer is null ? ReadOnlyMemory<byte>.Empty : _writer.WrittenMemory;
}
