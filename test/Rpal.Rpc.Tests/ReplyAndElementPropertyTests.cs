using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CsCheck;
using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Rpc.Tests.Infrastructure;
using Rpal.Rpc.Wire;
using Rpal.Runtime;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// Property-based tests of what a client reads from its server besides bodies and metadata
/// (docs/wire.md "Reply" and "Streams"): a reply's status, detail, trailers and body
/// (<see cref="ReplyCodec.Read(ref RpalMessage, out Metadata?, out ReadOnlySpan{byte})"/>)
/// and a stream element (<see cref="StreamCodec"/>), built from arbitrary words, lengths and
/// payload bytes, are read or rejected with <see cref="RpalDecodeException"/>, never with
/// another exception and never past the payload. In process: the payload is a pinned array, as
/// the engine hands a payload already checked to lie in the peer's arena.
/// </summary>
public sealed class ReplyAndElementPropertyTests
{
    private const long Iterations = 20_000;

    /// <summary>A hostile message: four words, a status (with or without the payload flag), a payload of 0-128 bytes.</summary>
    private static readonly Gen<(ulong[] Words, int Status, byte[] Payload)> s_message =
        Gen.Select(HostileMessages.Word.Array[4], Gen.Int, Gen.Bool, Gen.Byte.Array[0, 128],
            (words, status, payloadFlag, payload) =>
                (words, payloadFlag ? status | (ReplyCodec.ReplyPayload << 16) : status & ~(ReplyCodec.ReplyPayload << 16), payload));

    [Fact]
    public void AHostileReply_IsReadOrRejected_WithRpalDecodeException_AndItsBodyStaysInside() =>
        s_message.Sample(m => WithMessage(m, (ref RpalMessage reply, ReadOnlySpan<byte> payload) =>
        {
            try
            {
                Status status = ReplyCodec.Read(ref reply, out Metadata? _, out ReadOnlySpan<byte> body);
                Assert.Equal((StatusCode)(m.Status & 0xFFFF), status.StatusCode);
                if (((m.Status >>> 16) & ReplyCodec.ReplyPayload) != 0)
                {
                    Assert.True(Inside(body, payload), "the body must lie in the payload");
                }
                else
                {
                    Assert.Equal(RpalMessage.InlineWords * sizeof(ulong), body.Length); // the inline words
                }
            }
            catch (RpalDecodeException)
            {
            }
        }), iter: Iterations, threads: 1);

    [Fact]
    public void AHostileStreamElement_IsReadOrRejected_WithRpalDecodeException() =>
        s_message.Sample(m => WithMessage(m, (ref RpalMessage element, ReadOnlySpan<byte> payload) =>
        {
            try
            {
                ReadOnlyMemory<byte> bytes = StreamCodec.DecodeBytes(in element);
                Assert.InRange(bytes.Length, 0, Math.Max(payload.Length, 16));
            }
            catch (RpalDecodeException)
            {
            }

            try
            {
                string? text = StreamCodec.Decode<TextElement, string?>(in element);
                Assert.InRange(text?.Length ?? 0, 0, Math.Max(payload.Length, 16));
            }
            catch (RpalDecodeException)
            {
            }
        }), iter: Iterations, threads: 1);

    [Fact]
    public unsafe void AReplyPayloadOfMoreThan2GiB_IsRejected_BeforeAnyOfItIsRead()
    {
        byte* anywhere = stackalloc byte[1]; // never read: the lengths are refused first
        var reply = new RpalMessage
        {
            Data = (nint)anywhere,
            Length = 3UL << 30, // a peer whose arena is that large (slot_size of 4 GiB)
            Status = ReplyCodec.ReplyPayload << 16,
        };
        RpalDecodeException e = Assert.Throws<RpalDecodeException>(() => ReplyCodec.Read(ref reply, out _, out _));
        Assert.Contains("2 GiB", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWellFormedReply_ReadsBack()
    {
        // [body][detail][trailers], as the server writes it
        var trailers = new Metadata { { "k", "v" } };
        byte[] trailerBytes = new byte[MetadataCodec.SizeOf(trailers)];
        var writer = new RpalWriter(trailerBytes);
        MetadataCodec.Write(ref writer, trailers);
        byte[] payload = [1, 2, 3, .. "not found"u8, .. trailerBytes];
        WithMessage(([3, 9, (ulong)trailerBytes.Length, 0], (int)StatusCode.NotFound | (ReplyCodec.ReplyPayload << 16), payload),
            (ref RpalMessage reply, ReadOnlySpan<byte> _) =>
            {
                Status status = ReplyCodec.Read(ref reply, out Metadata? read, out ReadOnlySpan<byte> body);
                Assert.Equal(new Status(StatusCode.NotFound, "not found"), status);
                Assert.Equal([1, 2, 3], body.ToArray());
                Assert.Equal("v", Assert.Single(read!).Value);
            });
    }

    /// <summary>A hostile message with the response-headers flag too, half of the time.</summary>
    private static readonly Gen<(ulong[] Words, int Status, byte[] Payload)> s_withHeaders =
        Gen.Select(s_message, Gen.Bool, (m, headers) => headers ? (m.Words, m.Status | (ReplyCodec.ResponseHeaders << 16), m.Payload) : m);

    [Fact]
    public void AHostileReplyWithResponseHeaders_IsReadOrRejected_WithRpalDecodeException() =>
        s_withHeaders.Sample(m => WithMessage(m, (ref RpalMessage reply, ReadOnlySpan<byte> payload) =>
        {
            try
            {
                Status status = ReplyCodec.Read(ref reply, out Metadata? _, out Metadata? headers, out ReadOnlySpan<byte> body);
                Assert.Equal((StatusCode)(m.Status & 0xFFFF), status.StatusCode);
                if (!ReplyCodec.HasHeaders(in reply))
                {
                    Assert.Null(headers); // the flag alone says whether Words[3] means anything
                }
            }
            catch (RpalDecodeException)
            {
            }
        }), iter: Iterations, threads: 1);

    [Fact]
    public void AHostileResponseHeadersMessage_IsReadOrRejected_WithRpalDecodeException() =>
        s_message.Sample(m => WithMessage(m, (ref RpalMessage message, ReadOnlySpan<byte> payload) =>
        {
            try
            {
                Metadata headers = ControlCodec.ReadResponseHeaders(in message);
                Assert.True(headers.Count <= Math.Max(payload.Length, 0) / 6 + 1, "more entries than bytes to hold them");
            }
            catch (RpalDecodeException)
            {
            }
        }), iter: Iterations, threads: 1);

    [Fact]
    public void AWellFormedReplyWithResponseHeaders_ReadsBack_AndTheHeadersAfterTheTrailers()
    {
        // [body][detail][trailers][headers], as the server writes a unary reply with headers
        byte[] trailerBytes = Encode(new Metadata { { "t", "1" } });
        byte[] headerBytes = Encode(new Metadata { { "h", "2" }, { "h-bin", new byte[] { 7 } } });
        byte[] payload = [9, .. "no"u8, .. trailerBytes, .. headerBytes];
        int status = (int)StatusCode.Aborted | ((ReplyCodec.ReplyPayload | ReplyCodec.ResponseHeaders) << 16);
        WithMessage(([1, 2, (ulong)trailerBytes.Length, (ulong)headerBytes.Length], status, payload),
            (ref RpalMessage reply, ReadOnlySpan<byte> _) =>
            {
                Status read = ReplyCodec.Read(ref reply, out Metadata? trailers, out Metadata? headers, out ReadOnlySpan<byte> body);
                Assert.Equal(new Status(StatusCode.Aborted, "no"), read);
                Assert.Equal([9], body.ToArray());
                Assert.Equal("1", trailers!.GetValue("t"));
                Assert.Equal("2", headers!.GetValue("h"));
                Assert.Equal(new byte[] { 7 }, headers.GetValueBytes("h-bin"));
            });

        // one byte too many claimed for the headers: the call fails, nothing is read past the payload
        WithMessage(([1, 2, (ulong)trailerBytes.Length, (ulong)headerBytes.Length + 1], status, payload),
            (ref RpalMessage reply, ReadOnlySpan<byte> _) =>
            {
                RpalMessage copy = reply;
                Assert.Throws<RpalDecodeException>(() => ReplyCodec.Read(ref copy, out Metadata? _, out Metadata? _, out ReadOnlySpan<byte> _));
            });
    }

    private static byte[] Encode(Metadata metadata)
    {
        byte[] bytes = new byte[MetadataCodec.SizeOf(metadata)];
        var writer = new RpalWriter(bytes);
        MetadataCodec.Write(ref writer, metadata);
        return bytes;
    }

    /// <summary>An element of <c>IAsyncEnumerable&lt;string?&gt;</c>, as the generator would emit it.</summary>
    private readonly struct TextElement(string? value) : IRpalResponse<TextElement, string?>
    {
        public string? Value { get; } = value;

        public static TextElement FromValue(string? value) => new(value);

        public static TextElement Read(scoped ref RpalReader reader) => new(reader.ReadString());

        public int GetSize() => RpalWriter.SizeOf(Value);

        public void Write(ref RpalWriter writer) => writer.Write(Value);
    }

    /// <summary>Runs <paramref name="action"/> on the message <paramref name="m"/> describes, its payload pinned (an exact copy).</summary>
    private static void WithMessage((ulong[] Words, int Status, byte[] Payload) m, HostileMessages.MessageAction action) =>
        HostileMessages.With(m.Words, m.Status, m.Payload, action);

    private static bool Inside(ReadOnlySpan<byte> part, ReadOnlySpan<byte> whole)
    {
        if (part.IsEmpty)
        {
            return true;
        }

        nint offset = Unsafe.ByteOffset(ref MemoryMarshal.GetReference(whole), ref MemoryMarshal.GetReference(part));
        return offset >= 0 && offset + part.Length <= whole.Length;
    }
}
