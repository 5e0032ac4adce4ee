using Grpc.Core;
using Rpal.Runtime;

namespace Rpal.Rpc.Wire;

/// <summary>
/// Introspection calls (docs/wire.md, "Introspection"): calls (not one-way messages) with method
/// id 0, the op in the flags field, which the server answers itself whatever its services.
/// </summary>
internal static class IntrospectionCodec
{
    /// <summary>Answered at once with status 0 and nothing else.</summary>
    public const uint OpPing = 5;

    /// <summary>Answered with status 0 and a UTF-8 JSON object in the payload (Words[0] = its length).</summary>
    public const uint OpStats = 6;

    /// <summary>A request for <paramref name="op"/> (method id 0, the op in the flags): what the rpal tool sends.</summary>
    public static RpalMessage Request(uint op) => new() { Word0 = RequestCodec.Word0(0, op) };

    /// <summary>Whether a call is for the server itself (method id 0).</summary>
    public static bool IsIntrospection(in RpalMessage call) => RequestCodec.MethodId(in call) == 0;

    /// <summary>An introspection call's op.</summary>
    public static uint Op(in RpalMessage call) => RequestCodec.Flags(in call);

    /// <summary>An answer with <paramref name="code"/> and nothing else (Ping: OK; an unknown op: Unimplemented).</summary>
    public static RpalMessage Status(StatusCode code) => new() { Status = (int)code };

    /// <summary>
    /// The answer to Stats: status 0, the JSON in an arena buffer, Words[0] = its length;
    /// ResourceExhausted and nothing else when the arena has no room for it.
    /// </summary>
    public static RpalMessage EncodeStats(ReadOnlySpan<byte> json)
    {
        if (!RpalOutgoingMessage.TryAllocate(new RpalMessage { Word0 = (ulong)json.Length }, json.Length, out RpalOutgoingMessage reply))
        {
            return Status(StatusCode.ResourceExhausted);
        }

        json.CopyTo(reply.Payload);
        return reply.Detach(); // the caller's until sent
    }
}
