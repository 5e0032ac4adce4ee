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
/// Words[0..2] their lengths.
/// </summary>
internal static class ReplyCodec
{
    /// <summary>Reply flag (bit 16 of Status): body, detail and trailers are in the payload.</summary>
    public const int ReplyPayload = 1;

    /// <summary>The longest body that travels inline, in Words[0..3].</summary>
    public const int InlineBodyBytes = 32;

    /// <summary>The reply's status code.</summary>
    public static StatusCode Code(in RpalMessage reply) => (StatusCode)(reply.Status & 0xFFFF);

    /// <summary>Whether the reply's parts are in its payload (<see cref="ReplyPayload"/>).</summary>
    public static bool HasPayload(in RpalMessage reply) => ((reply.Status >>> 16) & ReplyPayload) != 0;

    /// <summary>
    /// Encodes a successful reply whose body is <paramref name="response"/> (<paramref name="size"/>
    /// bytes, its <c>GetSize()</c>): inline when it fits and there are no trailers, else body and
    /// trailers in an arena buffer, which is freed again when encoding throws. Throws
    /// <see cref="RpalException"/> when the arena has no room.
    /// </summary>
    public static RpalMessage EncodeOk<TResponse>(in TResponse response, int size, Metadata? trailers)
        where TResponse : struct, IRpalPayload<TResponse>
    {
        RpalMessage reply = default;
        if (size <= InlineBodyBytes && trailers is null)
        {
            var writer = new RpalWriter(MemoryMarshal.AsBytes(reply.Words));
            response.Write(ref writer);
            return reply;
        }

        int trailerSize = MetadataCodec.SizeOf(trailers);
        RpalBuffer buffer = RpalEngine.Alloc((nuint)(size + trailerSize));
        try
        {
            var writer = new RpalWriter(buffer.AsSpan()[..(size + trailerSize)]);
            response.Write(ref writer);
            if (trailers is not null)
            {
                MetadataCodec.Write(ref writer, trailers);
            }
        }
        catch
        {
            RpalEngine.Free(buffer);
            throw;
        }

        reply.Data = buffer.Address;
        reply.Length = (ulong)(size + trailerSize);
        reply.Word0 = (ulong)size;
        reply.Word2 = (ulong)trailerSize;
        reply.Status = ReplyPayload << 16;
        return reply;
    }

    /// <summary>
    /// Encodes a reply with <paramref name="status"/> and no body: the detail and trailers in a
    /// payload when either is not empty, else (and when the arena has no room for them) the code
    /// alone.
    /// </summary>
    public static RpalMessage EncodeStatus(Status status, Metadata? trailers)
    {
        byte[] detail = Encoding.UTF8.GetBytes(status.Detail ?? string.Empty);
        int trailerSize = MetadataCodec.SizeOf(trailers);
        RpalMessage reply = default;
        if (detail.Length + trailerSize > 0 && RpalEngine.TryAlloc((nuint)(detail.Length + trailerSize), out RpalBuffer buffer))
        {
            Span<byte> span = buffer.AsSpan()[..(detail.Length + trailerSize)];
            detail.CopyTo(span);
            if (trailers is not null)
            {
                var writer = new RpalWriter(span[detail.Length..]);
                MetadataCodec.Write(ref writer, trailers);
            }

            reply.Data = buffer.Address;
            reply.Length = (ulong)span.Length;
            reply.Word1 = (ulong)detail.Length;
            reply.Word2 = (ulong)trailerSize;
            reply.Status = ReplyPayload << 16;
        }

        reply.Status |= (int)status.StatusCode;
        return reply;
    }

    /// <summary>
    /// Reads a reply's status, detail and trailers; <paramref name="body"/> is the body, in the
    /// reply's inline words or its payload. Throws <see cref="RpalDecodeException"/> for a
    /// malformed reply. Does not release the payload.
    /// </summary>
    public static Status Read(ref RpalMessage reply, out Metadata? trailers, out ReadOnlySpan<byte> body)
    {
        StatusCode code = Code(in reply);
        trailers = null;
        string detail = string.Empty;
        if (HasPayload(in reply))
        {
            ulong bodyLength = reply.Word0, detailLength = reply.Word1, trailerLength = reply.Word2;
            if (reply.Length > int.MaxValue)
            {
                throw new RpalDecodeException("a reply payload of 2 GiB or more");
            }

            if (bodyLength > reply.Length || detailLength > reply.Length - bodyLength ||
                trailerLength > reply.Length - bodyLength - detailLength)
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
        }
        else
        {
            body = MemoryMarshal.AsBytes(reply.Words);
        }

        return new Status(code, detail);
    }
}
