using System.Runtime.InteropServices;
using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Runtime;

namespace Rpal.Rpc.Wire;

/// <summary>
/// A call's request on an engine message (docs/wire.md, "Request" and "Deadlines"): Words[0] =
/// method id | flags &lt;&lt; 32; Words[1] = the deadline (CLOCK_MONOTONIC ns) with
/// <see cref="Deadline"/>; the body inline in Words[2..3] (at most <see cref="InlineBodyBytes"/>
/// bytes), or, with <see cref="PayloadBody"/>, in the payload with Words[2] = its length and the
/// encoded request headers after it (<see cref="Headers"/>, Words[3] = their length). Method id 0
/// is no method: a one-way message with it is a control message (<see cref="ControlCodec"/>), a
/// call with it is for the server itself (<see cref="IntrospectionCodec"/>).
/// </summary>
internal static class RequestCodec
{
    /// <summary>Request flag: the body is in the payload, not inline.</summary>
    public const uint PayloadBody = 1;

    /// <summary>Request flag: request headers follow the body in the payload (read only with <see cref="PayloadBody"/>).</summary>
    public const uint Headers = 2;

    /// <summary>Request flag: Words[1] holds the deadline.</summary>
    public const uint Deadline = 4;

    /// <summary>Request flag: the client may cancel the call with a cancel message.</summary>
    public const uint Cancellable = 8;

    /// <summary>Request flag: the call opens a stream; control messages name it by its call id.</summary>
    public const uint Stream = 16;

    /// <summary>The longest body that travels inline, in Words[2..3].</summary>
    public const int InlineBodyBytes = 16;

    /// <summary>Words[0] of a request or control message.</summary>
    public static ulong Word0(uint methodId, uint flags) => methodId | ((ulong)flags << 32);

    /// <summary>The method id: 0 for a control message or an introspection call.</summary>
    public static uint MethodId(in RpalMessage message) => (uint)message.Word0;

    /// <summary>The request flags (a control message's or introspection call's op).</summary>
    public static uint Flags(in RpalMessage message) => (uint)(message.Word0 >> 32);

    /// <summary>
    /// Encodes a call of <paramref name="methodId"/> whose body is <paramref name="request"/>
    /// (<paramref name="size"/> bytes, its <c>GetSize()</c>): inline when it fits and there are no
    /// headers, else body and headers in one arena buffer, which is freed again when encoding
    /// throws. A deadline (0: none) sets <see cref="Deadline"/> and <see cref="Cancellable"/>;
    /// <paramref name="flags"/> may add <see cref="Cancellable"/> and <see cref="Stream"/>.
    /// Throws <see cref="RpalException"/> when the arena has no room.
    /// </summary>
    public static RpalMessage Encode<TRequest>(uint methodId, in TRequest request, int size, Metadata? headers, long deadline, uint flags)
        where TRequest : struct, IRpalPayload<TRequest>, allows ref struct
    {
        int headerSize = MetadataCodec.SizeOf(headers);
        RpalMessage message = default;
        if (deadline != 0)
        {
            flags |= Deadline | Cancellable;
            message.Word1 = (ulong)deadline;
        }

        if (size <= InlineBodyBytes && headerSize == 0)
        {
            // A scoped copy of the request and a scoped writer in the same block: the compiler
            // assumes that a ref struct request and the writer may take in each other's spans (a
            // generated request never does), which it allows only when both have the same scope.
            scoped TRequest body = request;
            scoped var writer = new RpalWriter(MemoryMarshal.AsBytes(message.Words[2..]));
            body.Write(ref writer);
        }
        else
        {
            message = PayloadEncoder.Encode(in message, in request, size, static (ref RpalWriter writer, scoped in TRequest body) => body.Write(ref writer), headers, headerSize);
            flags |= PayloadBody | (headerSize > 0 ? Headers : 0);
            message.Word2 = (ulong)size;
            message.Word3 = (ulong)headerSize;
        }

        message.Word0 = Word0(methodId, flags);
        return message;
    }

    /// <summary>The deadline a request carries (CLOCK_MONOTONIC ns), 0 for none.</summary>
    public static long ReadDeadline(in RpalMessage request) =>
        (Flags(in request) & Deadline) != 0 ? (long)request.Word1 : 0;

    /// <summary>Whether the server gives the call a cancellation token (a deadline, a cancellable token or a stream).</summary>
    public static bool IsCancellable(in RpalMessage request) =>
        (Flags(in request) & (Deadline | Cancellable | Stream)) != 0;

    /// <summary>Whether the call opens a stream.</summary>
    public static bool OpensStream(in RpalMessage request) => (Flags(in request) & Stream) != 0;

    /// <summary>Whether the body is in the payload (<see cref="PayloadBody"/>), not inline.</summary>
    public static bool HasPayloadBody(in RpalMessage request) => (Flags(in request) & PayloadBody) != 0;

    /// <summary>The size a body in the payload claims (unchecked), 0 for an inline body: what limits compare.</summary>
    public static ulong PayloadBodySize(in RpalMessage request) => HasPayloadBody(in request) ? request.Word2 : 0;

    /// <summary>
    /// The length of a body that travels in the payload (it is <c>Data[0 .. length)</c>), or -1
    /// for an inline body (<see cref="InlineBody"/>). Throws <see cref="RpalDecodeException"/>
    /// when the body runs past the payload.
    /// </summary>
    public static int ReadPayloadBodyLength(in RpalMessage request)
    {
        if (!HasPayloadBody(in request))
        {
            return -1;
        }

        if (request.Word2 > request.Length || request.Length > int.MaxValue)
        {
            throw new RpalDecodeException("a request body longer than its payload");
        }

        return (int)request.Word2;
    }

    /// <summary>An inline body: the bytes of Words[2..3], in place.</summary>
    public static Span<byte> InlineBody(ref RpalMessage request) =>
        MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref request.Word2, 2));

    /// <summary>
    /// The request headers that follow a payload body, null when there are none. Throws
    /// <see cref="RpalDecodeException"/> when they run past the payload or do not decode.
    /// </summary>
    public static Metadata? ReadHeaders(in RpalMessage request)
    {
        if ((Flags(in request) & (PayloadBody | Headers)) != (PayloadBody | Headers))
        {
            return null;
        }

        ulong body = request.Word2, headers = request.Word3;
        if (body > request.Length || headers > request.Length - body || request.Length > int.MaxValue)
        {
            throw new RpalDecodeException("request headers past the end of the payload");
        }

        var reader = new RpalReader(request.Payload.Slice((int)body, (int)headers));
        return MetadataCodec.Read(ref reader);
    }
}
