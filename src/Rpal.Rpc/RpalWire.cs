using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>
/// How an RPC rides on an engine message (docs/wire.md describes it for other implementations).
/// </summary>
/// <remarks>
/// Request: Words[0] = method id | flags &lt;&lt; 32; Words[1] = deadline (CLOCK_MONOTONIC ns) when
/// <see cref="Deadline"/>; the body inline in Words[2..3] (at most 16 bytes), or, with
/// <see cref="PayloadBody"/>, in the payload with Words[2] = body length and the encoded request
/// headers after it (<see cref="Headers"/>, Words[3] = their length). Method id 0 is a control
/// message: Words[1] = the call id it is about (op <see cref="OpCancel"/> in the flags).
/// Reply: Status = code | flags &lt;&lt; 16; the body inline in Words[0..3] (at most 32 bytes), or, with
/// <see cref="ReplyPayload"/>, the payload holds [body][detail][trailers] with Words[0..2] their
/// lengths.
/// </remarks>
internal static class RpalWire
{
    public const uint PayloadBody = 1;
    public const uint Headers = 2;
    public const uint Deadline = 4;
    public const uint Cancellable = 8;

    /// <summary>The call opens a stream: one-way stream messages name it by its call id.</summary>
    public const uint Stream = 16;

    // Control messages (method id 0, op in the flags field, Words[1] = the call id they name).
    public const uint OpCancel = 1;

    /// <summary>A stream element: the body inline in Words[2..3], or in the payload (Words[2] = its length).</summary>
    public const uint OpStreamMessage = 2;

    /// <summary>No more elements in this direction (the client half-closes; the server sends it before its reply).</summary>
    public const uint OpStreamEnd = 3;

    /// <summary>Flow control: the receiver consumed Words[2] elements; the sender may send that many more.</summary>
    public const uint OpWindow = 4;

    // Introspection calls (method id 0 in a call, op in the flags), answered by the server itself
    // whatever its services: the rpal tool's ping and stats.

    /// <summary>Answered at once with status 0 and nothing else.</summary>
    public const uint OpPing = 5;

    /// <summary>Answered with status 0 and a UTF-8 JSON object in the payload (Words[0] = its length).</summary>
    public const uint OpStats = 6;

    /// <summary>Elements a stream's sender may have unconsumed at its receiver (per direction).</summary>
    public const int StreamWindow = 64;

    /// <summary>The receiver returns credit once it has consumed this many elements.</summary>
    public const int StreamWindowUpdate = 16;

    public const int InlineRequestBytes = 16;
    public const int InlineReplyBytes = 32;

    public const int ReplyPayload = 1;

    public static ulong RequestWord0(uint methodId, uint flags) => methodId | ((ulong)flags << 32);

    public static uint MethodId(ulong word0) => (uint)word0;

    public static uint Flags(ulong word0) => (uint)(word0 >> 32);

    public static RpalMessage Control(uint op, ulong callId, ulong word2 = 0)
    {
        RpalMessage message = default;
        message.Word0 = RequestWord0(0, op);
        message.Word1 = callId;
        message.Word2 = word2;
        return message;
    }
}
