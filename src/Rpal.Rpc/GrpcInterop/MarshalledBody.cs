using Rpal.Rpc.Generated;

namespace Rpal.Rpc.GrpcInterop;

/// <summary>
/// The body of a call made through a gRPC <see cref="global::Grpc.Core.Method{TRequest, TResponse}"/>:
/// the marshaller's bytes, written as one length-prefixed byte sequence. That is the encoding of
/// a single protobuf-message parameter or result of an [RpalService] method, so a protoc-generated
/// client and an equivalent Rpal interface speak the same wire format. Read from a peer's arena,
/// the value views it in place.
/// </summary>
internal readonly struct MarshalledBody : IRpalResponse<MarshalledBody, ReadOnlyMemory<byte>>
{
    public MarshalledBody(ReadOnlyMemory<byte> value) => Value = value;

    public ReadOnlyMemory<byte> Value { get; }

    public static MarshalledBody FromValue(ReadOnlyMemory<byte> value) => new(value);

    public static MarshalledBody Read(scoped ref RpalReader reader) => new(reader.ReadMemory());

    public int GetSize() => RpalWriter.SizeOf(Value);

    public void Write(ref RpalWriter writer) => writer.Write(Value);
}
