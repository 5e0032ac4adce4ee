using System.Buffers.Binary;
using CsCheck;
using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Rpc.Wire;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// Property-based tests of <see cref="MetadataCodec"/>, the decoder of request headers and response
/// trailers read from a peer (docs/wire.md "Headers and trailers"): what it writes reads back as
/// the same entries, and any body from a peer is either read or rejected with
/// <see cref="RpalDecodeException"/>, never another exception (an invalid key included) and never
/// read past its end.
/// </summary>
public sealed class MetadataCodecPropertyTests
{
    private const long Iterations = 20_000;

    private static readonly Gen<char> s_keyChar = Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-_."];

    /// <summary>Valid gRPC keys (lower case; Grpc.Core keeps them as given), text or binary ("-bin").</summary>
    private static readonly Gen<Metadata.Entry> s_entry = Gen.OneOf(
        Gen.Select(
            s_keyChar.Array[1, 12].Select(k => "k" + new string(k)).Where(k => !k.EndsWith("-bin", StringComparison.Ordinal)), // a text key never ends so
            Gen.String[0, 24].Select(v => new string([.. v.Where(c => c is >= ' ' and <= '~')])),
            (key, value) => new Metadata.Entry(key, value)),
        Gen.Select(s_keyChar.Array[1, 12], Gen.Byte.Array[0, 24],
            (key, value) => new Metadata.Entry("k" + new string(key) + "-bin", value)));

    private static readonly Gen<Metadata> s_metadata = s_entry.Array[1, 8].Select(entries =>
    {
        var m = new Metadata();
        foreach (Metadata.Entry e in entries)
        {
            m.Add(e);
        }

        return m;
    });

    private static byte[] Encode(Metadata metadata)
    {
        var buffer = new byte[MetadataCodec.SizeOf(metadata)];
        var writer = new RpalWriter(buffer);
        MetadataCodec.Write(ref writer, metadata);
        Assert.Equal(buffer.Length, writer.Position);
        return buffer;
    }

    [Fact]
    public void Metadata_RoundTrips() =>
        s_metadata.Sample(metadata =>
        {
            var reader = new RpalReader(Encode(metadata));
            Metadata back = MetadataCodec.Read(ref reader);
            Assert.Equal(0, reader.Remaining);
            Assert.Equal(metadata.Count, back.Count);
            for (int i = 0; i < metadata.Count; i++)
            {
                Assert.Equal(metadata[i].Key, back[i].Key);
                Assert.Equal(metadata[i].IsBinary, back[i].IsBinary);
                if (metadata[i].IsBinary)
                {
                    Assert.Equal(metadata[i].ValueBytes, back[i].ValueBytes);
                }
                else
                {
                    Assert.Equal(metadata[i].Value, back[i].Value);
                }
            }
        }, iter: Iterations, threads: 1);

    /// <summary>Reads <paramref name="input"/> (an exact copy: a read past it throws something else).</summary>
    private static void ReadHostile(byte[] input)
    {
        byte[] exact = input.ToArray();
        var reader = new RpalReader(exact);
        try
        {
            MetadataCodec.Read(ref reader);
            Assert.InRange(reader.Remaining, 0, exact.Length);
        }
        catch (RpalDecodeException)
        {
        }
    }

    [Fact]
    public void RandomBytes_AreReadOrRejected_WithRpalDecodeException() =>
        Gen.Byte.Array[0, 96].Sample(ReadHostile, iter: Iterations, threads: 1);

    [Fact]
    public void MutatedMetadata_IsReadOrRejected_WithRpalDecodeException() =>
        Gen.Select(s_metadata, Gen.Int[0, int.MaxValue], Gen.Byte[1, 255], Gen.Int[0, 3], Gen.Int,
            (metadata, where, mask, mutation, value) =>
            {
                byte[] body = Encode(metadata);
                int at = where % body.Length;
                switch (mutation)
                {
                    case 0: return body[..at];                       // truncated
                    case 1: body[at] ^= mask; return body;           // one byte changed
                    case 2: body[at] = (byte)'A'; return body;       // an upper-case (invalid) key byte, a bad kind byte...
                    default:                                         // a hostile count or length
                        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(Math.Min(at, body.Length - 4)), value);
                        return body;
                }
            }).Sample(ReadHostile, iter: Iterations, threads: 1);

    [Fact]
    public void AnEntryKindOtherThanTextOrBinary_IsRejected()
    {
        var metadata = new Metadata { { "k", "v" } };
        byte[] body = Encode(metadata);
        int kindAt = 4 + 4 + 1; // count, the key's length and its one byte
        Assert.Equal(0, body[kindAt]);
        body[kindAt] = 2;
        var reader = new RpalReader(body);
        try
        {
            MetadataCodec.Read(ref reader);
            Assert.Fail("a kind byte of 2 was accepted");
        }
        catch (RpalDecodeException e)
        {
            Assert.Contains("kind 2", e.Message, StringComparison.Ordinal);
        }
    }
}
