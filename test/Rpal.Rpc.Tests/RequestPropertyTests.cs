using CsCheck;
using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Rpc.Tests.Infrastructure;
using Rpal.Rpc.Wire;
using Rpal.Runtime;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// Property-based tests of what a server reads from its clients besides bodies and metadata
/// (docs/wire.md "Request" and "Deadlines", <see cref="RequestCodec"/>): a request built from
/// arbitrary words, flags, lengths and payload bytes has its body located and its headers read,
/// or is rejected with <see cref="RpalDecodeException"/>, never with another exception and
/// never past the payload; and an inline request reads back as it was written. In process: the
/// payload is a pinned array, as in <see cref="ReplyAndElementPropertyTests"/>.
/// </summary>
public sealed class RequestPropertyTests
{
    private const long Iterations = 20_000;

    /// <summary>A hostile request: any method id and flags (the low five bits often set), three more words, a payload of 0-128 bytes.</summary>
    private static readonly Gen<(uint MethodId, uint Flags, ulong[] Words, byte[] Payload)> s_request =
        Gen.Select(Gen.UInt, Gen.OneOf(Gen.UInt, Gen.UInt[0, 31]), HostileMessages.Word.Array[3], Gen.Byte.Array[0, 128]);

    [Fact]
    public void AHostileRequest_IsReadOrRejected_WithRpalDecodeException_AndItsBodyStaysInside() =>
        s_request.Sample(r => HostileMessages.With([RequestCodec.Word0(r.MethodId, r.Flags), .. r.Words], 0, r.Payload, (ref RpalMessage request, ReadOnlySpan<byte> payload) =>
        {
            Assert.Equal(r.MethodId, RequestCodec.MethodId(in request));
            Assert.Equal((r.Flags & RequestCodec.Deadline) != 0 ? (long)r.Words[0] : 0, RequestCodec.ReadDeadline(in request));
            try
            {
                int body = RequestCodec.ReadPayloadBodyLength(in request);
                if ((r.Flags & RequestCodec.PayloadBody) != 0)
                {
                    Assert.InRange(body, 0, payload.Length);
                }
                else
                {
                    Assert.Equal(-1, body);
                    Assert.Equal(16, RequestCodec.InlineBody(ref request).Length);
                }

                Metadata? headers = RequestCodec.ReadHeaders(in request);
                if ((r.Flags & (RequestCodec.PayloadBody | RequestCodec.Headers)) != (RequestCodec.PayloadBody | RequestCodec.Headers))
                {
                    Assert.Null(headers);
                }
            }
            catch (RpalDecodeException)
            {
            }
        }), iter: Iterations, threads: 1);

    [Fact]
    public void AnInlineRequest_ReadsBack() =>
        Gen.Select(Gen.UInt, Gen.Int, Gen.Long, Gen.OneOf(Gen.Const(0L), Gen.Long[1, long.MaxValue]), Gen.Bool)
            .Sample((methodId, a, b, deadline, cancellable) =>
            {
                RpalMessage request = RequestCodec.Encode(methodId, new Pair(a, b), Pair.Size, headers: null, deadline, cancellable ? RequestCodec.Cancellable : 0);
                Assert.Equal(methodId, RequestCodec.MethodId(in request));
                Assert.Equal(deadline, RequestCodec.ReadDeadline(in request));
                Assert.Equal(cancellable || deadline != 0, RequestCodec.IsCancellable(in request));
                Assert.False(RequestCodec.OpensStream(in request));
                Assert.Equal(-1, RequestCodec.ReadPayloadBodyLength(in request));
                Assert.Null(RequestCodec.ReadHeaders(in request));
                var reader = new RpalReader(RequestCodec.InlineBody(ref request));
                Pair back = Pair.Read(ref reader);
                Assert.Equal((a, b), (back.A, back.B));
            }, iter: Iterations, threads: 1);

    /// <summary>A request of two parameters (int, long): 12 bytes, inline.</summary>
    private readonly struct Pair(int a, long b) : IRpalPayload<Pair>
    {
        public const int Size = sizeof(int) + sizeof(long);

        public int A { get; } = a;

        public long B { get; } = b;

        public static Pair Read(scoped ref RpalReader reader) => new(reader.Read<int>(), reader.Read<long>());

        public int GetSize() => Size;

        public void Write(ref RpalWriter writer)
        {
            writer.Write(A);
            writer.Write(B);
        }
    }
}
