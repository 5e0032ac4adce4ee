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

    public const uint OpCancel = 1;

    public const int InlineRequestBytes = 16;
    public const int InlineReplyBytes = 32;

    public const int ReplyPayload = 1;

    public static ulong RequestWord0(uint methodId, uint flags) => methodId | ((ulong)flags << 32);

    public static uint MethodId(ulong word0) => (uint)word0;

    public static uint Flags(ulong word0) => (uint)(word0 >> 32);
}
