using System.Buffers;
using Grpc.Core;

namespace Rpal.Rpc.GrpcInterop;

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
