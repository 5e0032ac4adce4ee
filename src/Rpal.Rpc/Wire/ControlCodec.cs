using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Runtime;

namespace Rpal.Rpc.Wire;

/// <summary>
/// Control messages (docs/wire.md, "The cancel message" and "Streams"): one-way messages with
/// method id 0, the op in the flags field and Words[1] = the call id they name (the id the
/// server's receive saw, the client's submit returned). A stream's element carries its body as
/// <see cref="StreamCodec"/> says; the response headers of a streaming call carry their
/// encoding (<see cref="MetadataCodec"/>) in the payload; the other ops carry at most a count in Words[2].
/// </summary>
internal static class ControlCodec
{
    /// <summary>The client cancels the named call.</summary>
    public const uint OpCancel = 1;

    /// <summary>A stream element: the body inline in Words[2..3], or in the payload (Words[2] = its length).</summary>
    public const uint OpStreamMessage = 2;

    /// <summary>No more elements in this direction (the client half-closes; the server sends it before its reply).</summary>
    public const uint OpStreamEnd = 3;

    /// <summary>Flow control: the receiver consumed Words[2] elements; the sender may send that many more.</summary>
    public const uint OpWindow = 4;

    // 5 and 6 are introspection calls (IntrospectionCodec), never one-way messages.

    /// <summary>
    /// The server's response headers for a streaming call, before its first element: the encoded
    /// metadata in the payload, Words[2] = its length (no payload: empty headers).
    /// </summary>
    public const uint OpResponseHeaders = 7;

    /// <summary>A control message with no payload: <paramref name="op"/> about the call <paramref name="callId"/>.</summary>
    public static RpalMessage Encode(uint op, ulong callId, ulong word2 = 0)
    {
        RpalMessage message = default;
        message.Word0 = RequestCodec.Word0(0, op);
        message.Word1 = callId;
        message.Word2 = word2;
        return message;
    }

    /// <summary>The client's cancel of the call <paramref name="callId"/>.</summary>
    public static RpalMessage Cancel(ulong callId) => Encode(OpCancel, callId);

    /// <summary>The end of one direction of the stream of <paramref name="callId"/>.</summary>
    public static RpalMessage StreamEnd(ulong callId) => Encode(OpStreamEnd, callId);

    /// <summary>Credit for <paramref name="consumed"/> elements of the stream of <paramref name="callId"/>.</summary>
    public static RpalMessage Window(ulong callId, int consumed) => Encode(OpWindow, callId, (ulong)consumed);

    /// <summary>
    /// The response headers of the stream of <paramref name="callId"/>, in an arena buffer
    /// (none for empty headers). Throws <see cref="RpalException"/> when the arena has no room.
    /// </summary>
    public static RpalMessage ResponseHeaders(ulong callId, Metadata headers)
    {
        RpalMessage message = Encode(OpResponseHeaders, callId);
        int size = MetadataCodec.SizeOf(headers);
        if (size == 0)
        {
            return message;
        }

        message = PayloadEncoder.Encode(in message, headers, size);
        message.Word2 = (ulong)size;
        return message;
    }

    /// <summary>
    /// Reads the headers of an <see cref="OpResponseHeaders"/> message (empty without a payload).
    /// Throws <see cref="RpalDecodeException"/> when Words[2] runs past the payload or the
    /// metadata is malformed. Does not release the payload.
    /// </summary>
    public static Metadata ReadResponseHeaders(in RpalMessage message)
    {
        if (message.Data == 0)
        {
            return new Metadata();
        }

        ulong length = message.Word2; // read once
        if (message.Length > int.MaxValue || length > message.Length)
        {
            throw new RpalDecodeException("response headers longer than their payload");
        }

        if (length == 0)
        {
            return new Metadata();
        }

        var reader = new RpalReader(message.Payload[..(int)length]);
        return MetadataCodec.Read(ref reader);
    }

    /// <summary>
    /// Reads a one-way message: true, with its op, for a control message of an op above; false
    /// for anything else, which the receiver releases and ignores.
    /// </summary>
    public static bool TryRead(in RpalMessage message, out uint op)
    {
        op = Op(in message);
        return RequestCodec.MethodId(in message) == 0 && op is OpCancel or OpStreamMessage or OpStreamEnd or OpWindow or OpResponseHeaders;
    }

    /// <summary>A control message's op (unchecked: <see cref="TryRead"/> checks it).</summary>
    public static uint Op(in RpalMessage message) => RequestCodec.Flags(in message);

    /// <summary>The call a control message names.</summary>
    public static ulong CallId(in RpalMessage message) => message.Word1;

    /// <summary>The credit an <see cref="OpWindow"/> message returns (unchecked: the stream checks it against its window).</summary>
    public static ulong ReadWindow(in RpalMessage message) => message.Word2;
}
