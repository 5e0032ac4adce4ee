using System.Buffers;
using Grpc.Core;

namespace Rpal.Rpc.GrpcInterop;

/// <summary>
/// Hands a marshaller the bytes of a message in place (for protobuf, parsed straight from the
/// peer's arena). Valid only during the deserializer's call.
/// </summary>
internal sealed class MemoryDeserializationContext(ReadOnlyMemory<byte> payload) : DeserializationContext
{
    public override int PayloadLength => payload.Length;

    public override byte[] PayloadAsNewBuffer() => payload.ToArray();

    public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => new(payload);
}
