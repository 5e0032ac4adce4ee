using System.Runtime.InteropServices;
using Rpal.Rpc.Generated;
using Rpal.Runtime;

namespace Rpal.Rpc.Wire;

/// <summary>
/// Stream elements and flow control (docs/wire.md, "Streams"): an element is a control message
/// (<see cref="ControlCodec.OpStreamMessage"/>) naming the call in Words[1]; a body of at most
/// <see cref="InlineBodyBytes"/> bytes travels inline in Words[2..3], a longer one in the payload
/// with Words[2] = its length. Each direction has a window of <see cref="Window"/> elements.
/// </summary>
internal static class StreamCodec
{
    /// <summary>Elements a stream's sender may have unconsumed at its receiver (per direction).</summary>
    public const int Window = 64;

    /// <summary>The receiver returns credit (<see cref="ControlCodec.Window"/>) once it has consumed this many elements.</summary>
    public const int WindowUpdate = 16;

    /// <summary>The longest element body that travels inline, in Words[2..3].</summary>
    public const int InlineBodyBytes = 16;

    /// <summary>Encodes one element (into the arena when it does not fit inline).</summary>
    public static RpalMessage Encode<TElement>(in TElement element, ulong callId)
        where TElement : struct, IRpalPayload<TElement>
    {
        RpalMessage message = ControlCodec.Encode(ControlCodec.OpStreamMessage, callId);
        int size = element.GetSize();
        if (size <= InlineBodyBytes)
        {
            var writer = new RpalWriter(MemoryMarshal.AsBytes(message.Words[2..]));
            element.Write(ref writer);
            return message;
        }

        message = PayloadEncoder.Encode(in message, in element, size, static (ref RpalWriter writer, scoped in TElement body) => body.Write(ref writer));
        message.Word2 = (ulong)size;
        return message;
    }

    /// <summary>
    /// An element made of raw bytes (a marshaller's output): written as a length-prefixed byte
    /// sequence, the encoding of a protobuf message parameter.
    /// </summary>
    public static RpalMessage EncodeBytes(ReadOnlySpan<byte> body, ulong callId)
    {
        RpalMessage message = ControlCodec.Encode(ControlCodec.OpStreamMessage, callId);
        int size = sizeof(int) + body.Length;
        if (size <= InlineBodyBytes)
        {
            var inline = new RpalWriter(MemoryMarshal.AsBytes(message.Words[2..]));
            inline.Write(body);
            return message;
        }

        message = PayloadEncoder.Encode(in message, body, size, static (ref RpalWriter writer, scoped in ReadOnlySpan<byte> bytes) => writer.Write(bytes));
        message.Word2 = (ulong)size;
        return message;
    }

    /// <summary>The size an element in a payload claims (unchecked), 0 for an inline one: what limits compare.</summary>
    public static ulong PayloadBodySize(in RpalMessage element) => element.Data != 0 ? element.Word2 : 0;

    /// <summary>
    /// Decodes an element the peer sent. A payload is read in place: byte sequences the element
    /// holds view the peer's arena until the element is released. Throws
    /// <see cref="RpalDecodeException"/> for a malformed element.
    /// </summary>
    public static T Decode<TElement, T>(in RpalMessage message)
        where TElement : struct, IRpalResponse<TElement, T>
    {
        if (message.Data == 0)
        {
            RpalMessage copy = message;
            var inline = new RpalReader(MemoryMarshal.AsBytes(copy.Words[2..]));
            return TElement.Read(ref inline).Value;
        }

        var reader = new RpalReader(View(in message));
        return TElement.Read(ref reader).Value;
    }

    /// <summary>The element's body bytes (the length-prefixed form of <see cref="EncodeBytes"/>), in place.</summary>
    public static ReadOnlyMemory<byte> DecodeBytes(in RpalMessage message)
    {
        if (message.Data == 0)
        {
            RpalMessage copy = message;
            var inline = new RpalReader(MemoryMarshal.AsBytes(copy.Words[2..]));
            return inline.ReadMemory(); // a copy: the inline words do not outlive this call
        }

        var reader = new RpalReader(View(in message));
        return reader.ReadMemory();
    }

    private static PeerMemory View(in RpalMessage message)
    {
        if (message.Word2 > message.Length || message.Word2 > int.MaxValue)
        {
            throw new RpalDecodeException("a stream element longer than its payload");
        }

        // one view per element: a view kept past the element's release must not show the next one
        var memory = new PeerMemory();
        memory.Reset(message.Data, (int)message.Word2);
        return memory;
    }
}
