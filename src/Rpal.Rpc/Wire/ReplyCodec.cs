using System.Runtime.InteropServices;
using System.Text;
using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Runtime;

namespace Rpal.Rpc.Wire;

/// <summary>
/// A call's reply on an engine message (docs/wire.md, "Reply"): Status = the gRPC status code |
/// reply flags &lt;&lt; 16; the body inline in Words[0..3] (at most <see cref="InlineBodyBytes"/>
/// bytes), or, with <see cref="ReplyPayload"/>, a payload holding [body][detail][trailers] with
/// Words[0..2] their lengths, and with <see cref="ResponseHeaders"/> the response headers after
/// them (Words[3] their length).
/// </summary>
internal static class ReplyCodec
{
    /// <summary>Reply flag (bit 16 of Status): body, detail and trailers are in the payload.</summary>
    public const int ReplyPayload = 1;

    /// <summary>
    /// Reply flag (bit 17 of Status, only with <see cref="ReplyPayload"/>): the response headers
    /// follow the trailers in the payload, Words[3] = their length. A unary call's headers travel
    /// here; a streaming call's in a control message before its first element
    /// (<see cref="ControlCodec.OpResponseHeaders"/>). Empty headers are not sent.
    /// </summary>
    public const int ResponseHeaders = 2;

    /// <summary>The longest body that travels inline, in Words[0..3].</summary>
    public const int InlineBodyBytes = 32;

    /// <summary>The reply's status code.</summary>
    public static StatusCode Code(in RpalMessage reply) => (StatusCode)(reply.Status & 0xFFFF);

    /// <summary>Whether the reply's parts are in its payload (<see cref="ReplyPayload"/>).</summary>
    public static bool HasPayload(in RpalMessage reply) => ((reply.Status >>> 16) & ReplyPayload) != 0;

    /// <summary>Whether the reply carries response headers (<see cref="ResponseHeaders"/>, with <see cref="ReplyPayload"/>).</summary>
    public static bool HasHeaders(in RpalMessage reply) => ((reply.Status >>> 16) & (ReplyPayload | ResponseHeaders)) == (ReplyPayload | ResponseHeaders);

    /// <summary>
    /// Encodes a successful reply whose body is <paramref name="response"/> (<paramref name="size"/>
    /// bytes, its <c>GetSize()</c>): inline when it fits and there are neither trailers nor
    /// response headers, else body, trailers and headers in an arena buffer, which is freed again
    /// when encoding throws. Throws <see cref="RpalException"/> when the arena has no room.
    /// </summary>
    public static RpalMessage EncodeOk<TResponse>(in TResponse response, int size, Metadata? trailers, Metadata? headers = null)
        where TResponse : struct, IRpalPayload<TResponse>
    {
        RpalMessage reply = default;
        if (size <= InlineBodyBytes && trailers is null && MetadataCodec.SizeOf(headers) == 0)
        {
            var writer = new RpalWriter(MemoryMarshal.AsBytes(reply.Words));
            response.Write(ref writer);
            return reply;
        }

        int trailerSize = MetadataCodec.SizeOf(trailers);
        int headerSize = MetadataCodec.SizeOf(headers);
        reply = PayloadEncoder.Encode(in reply, in response, size, static (ref RpalWriter writer, scoped in TResponse body) => body.Write(ref writer), trailers, trailerSize, headers, headerSize);
        reply.Word0 = (ulong)size;
        reply.Word2 = (ulong)trailerSize;
        reply.Word3 = (ulong)headerSize;
        reply.Status = (ReplyPayload | (headerSize > 0 ? ResponseHeaders : 0)) << 16;
        return reply;
    }

    /// <summary>
    /// Encodes a reply with <paramref name="status"/> and no body: the detail, trailers and
    /// response headers in a payload when any is there, else (and when the arena has no room for
    /// them) the code alone.
    /// </summary>
    public static RpalMessage EncodeStatus(Status status, Metadata? trailers, Metadata? headers = null)
    {
        byte[] detail = Encoding.UTF8.GetBytes(status.Detail ?? string.Empty);
        int trailerSize = MetadataCodec.SizeOf(trailers);
        int headerSize = MetadataCodec.SizeOf(headers);
        int total = detail.Length + trailerSize + headerSize;
        RpalMessage reply = default;
        if (total > 0 && RpalOutgoingMessage.TryAllocate(in reply, total, out RpalOutgoingMessage owned))
        {
            Span<byte> span = owned.Payload;
            detail.CopyTo(span);
            var writer = new RpalWriter(span[detail.Length..]);
            if (trailerSize > 0)
            {
                MetadataCodec.Write(ref writer, trailers!);
            }

            if (headerSize > 0)
            {
                MetadataCodec.Write(ref writer, headers!);
            }

            reply = owned.Detach(); // the caller's until sent
            reply.Word1 = (ulong)detail.Length;
            reply.Word2 = (ulong)trailerSize;
            reply.Word3 = (ulong)headerSize;
            reply.Status = (ReplyPayload | (headerSize > 0 ? ResponseHeaders : 0)) << 16;
        }

        reply.Status |= (int)status.StatusCode;
        return reply;
    }

    /// <summary>
    /// Reads a reply's status, detail and trailers; <paramref name="body"/> is the body, in the
    /// reply's inline words or its payload. Throws <see cref="RpalDecodeException"/> for a
    /// malformed reply. Does not release the payload.
    /// </summary>
    public static Status Read(ref RpalMessage reply, out Metadata? trailers, out ReadOnlySpan<byte> body) =>
        Read(ref reply, out trailers, out _, out body);

    /// <summary>
    /// <see cref="Read(ref RpalMessage, out Metadata?, out ReadOnlySpan{byte})"/>, and the
    /// response headers (<see cref="ResponseHeaders"/>; null when the reply carries none).
    /// </summary>
    public static Status Read(ref RpalMessage reply, out Metadata? trailers, out Metadata? headers, out ReadOnlySpan<byte> body)
    {
        StatusCode code = Code(in reply);
        trailers = null;
        headers = null;
        string detail = string.Empty;
        if (HasPayload(in reply))
        {
            // read once: the words are copies, the payload is the peer's and read-only to us
            ulong bodyLength = reply.Word0, detailLength = reply.Word1, trailerLength = reply.Word2;
            ulong headerLength = HasHeaders(in reply) ? reply.Word3 : 0;
            if (reply.Length > int.MaxValue)
            {
                throw new RpalDecodeException("a reply payload of 2 GiB or more");
            }

            if (bodyLength > reply.Length || detailLength > reply.Length - bodyLength ||
                trailerLength > reply.Length - bodyLength - detailLength ||
                headerLength > reply.Length - bodyLength - detailLength - trailerLength)
            {
                throw new RpalDecodeException("reply parts longer than its payload");
            }

            ReadOnlySpan<byte> payload = reply.Payload;
            body = payload[..(int)bodyLength];
            if (detailLength > 0)
            {
                detail = Encoding.UTF8.GetString(payload.Slice((int)bodyLength, (int)detailLength));
            }

            if (trailerLength > 0)
            {
                var tr = new RpalReader(payload.Slice((int)(bodyLength + detailLength), (int)trailerLength));
                trailers = MetadataCodec.Read(ref tr);
            }

            if (headerLength > 0)
            {
                var hr = new RpalReader(payload.Slice((int)(bodyLength + detailLength + trailerLength), (int)headerLength));
                headers = MetadataCodec.Read(ref hr);
            }
        }
        else
        {
            body = MemoryMarshal.AsBytes(reply.Words);
        }

        return new Status(code, detail);
    }
}
