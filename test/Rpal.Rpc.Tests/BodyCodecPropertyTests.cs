using System.Buffers;
using System.Buffers.Binary;
using CsCheck;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Rpal.Rpc.Generated;
using Rpal.Rpc.TestContracts.Messages;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// Property-based tests of the body codec (<see cref="RpalWriter"/> / <see cref="RpalReader"/>,
/// docs/wire.md "Bodies"): what a writer writes reads back exactly, and a body from a peer,
/// however broken, is either read or rejected with <see cref="RpalDecodeException"/>, never
/// with another exception and never past its end.
/// </summary>
/// <remarks>
/// In process and without a server: these run in a few seconds in all. Headers and trailers
/// (MetadataCodec) have their own properties (MetadataCodecPropertyTests).
/// </remarks>
public sealed class BodyCodecPropertyTests
{
    // Iterations per property: the whole class runs in a few seconds on 2 cores.
    private const long RoundTripIterations = 10_000;
    private const long HostileIterations = 20_000;

    // ---- the model: one value of the body, with the wire type it is written as ----

    private enum Kind
    {
        Int32,
        Int64,
        Double,
        Byte,
        Guid,
        Decimal,
        Pair,
        String,
        ByteArray,
        Memory,
        Span,
        Int32Array,
        Int64Array,
        Timestamp,
        Duration,
        Struct,
        Order,
    }

    private sealed record Value(Kind Kind, object? Payload)
    {
        public override string ToString() => $"{Kind}:{Show(Payload)}";

        private static string Show(object? payload) => payload switch
        {
            null => "null",
            string s => $"\"{s}\" ({s.Length} chars)",
            byte[] b => $"byte[{b.Length}] {Convert.ToHexString(b.AsSpan(0, Math.Min(b.Length, 16)))}",
            ReadOnlyMemory<byte> m => $"memory[{m.Length}]",
            int[] a => $"int[{a.Length}]",
            long[] a => $"long[{a.Length}]",
            _ => payload.ToString() ?? "",
        };
    }

    private static readonly Gen<string> s_text = Gen.OneOf(
        Gen.String,
        Gen.String[0, 12],
        // Non-ASCII: Greek, Cyrillic, CJK, and a surrogate pair for U+1F389.
        Gen.OneOf("Grüße", "Καλημέρα", "Привет", "日本語", "\U0001F389", "nul\0inside", ""));

    private static readonly Gen<byte[]> s_bytes = Gen.Byte.Array[0, 64];

    private static readonly Gen<Timestamp> s_timestamp =
        Gen.Select(Gen.Long[-62_135_596_800, 253_402_300_799], Gen.Int[0, 999_999_999],
            (seconds, nanos) => new Timestamp { Seconds = seconds, Nanos = nanos });

    private static readonly Gen<Duration> s_duration =
        Gen.Select(Gen.Long[-315_576_000_000, 315_576_000_000], Gen.Int[-999_999_999, 999_999_999],
            (seconds, nanos) => new Duration { Seconds = seconds, Nanos = seconds < 0 ? -Math.Abs(nanos) : Math.Abs(nanos) });

    private static readonly Gen<Google.Protobuf.WellKnownTypes.Value> s_leaf = Gen.OneOf(
        Gen.Double.Select(Google.Protobuf.WellKnownTypes.Value.ForNumber),
        s_text.Select(Google.Protobuf.WellKnownTypes.Value.ForString),
        Gen.Bool.Select(Google.Protobuf.WellKnownTypes.Value.ForBool),
        Gen.Const(Google.Protobuf.WellKnownTypes.Value.ForNull()));

    private static readonly Gen<Struct> s_struct =
        Gen.Select(s_text, s_leaf).Array[0, 6].Select(fields =>
        {
            var result = new Struct();
            foreach ((string key, Google.Protobuf.WellKnownTypes.Value value) in fields)
            {
                result.Fields[key] = value;
            }

            // One nested level: a list and a struct holding the leaves again.
            if (fields.Length > 0)
            {
                result.Fields["list"] = Google.Protobuf.WellKnownTypes.Value.ForList([.. fields.Select(f => f.Item2.Clone())]);
                result.Fields["nested"] = Google.Protobuf.WellKnownTypes.Value.ForStruct(result.Clone());
            }

            return result;
        });

    private static readonly Gen<LineItem> s_lineItem =
        Gen.Select(s_text, Gen.Int, Gen.Double,
            (sku, quantity, price) => new LineItem { Sku = sku, Quantity = quantity, UnitPrice = price });

    private static readonly Gen<Order> s_order =
        Gen.Select(Gen.Long, s_text, s_lineItem.Array[0, 4], s_timestamp.Null(0.3),
            Gen.Select(s_text, s_text).Array[0, 3], s_bytes, Gen.Int[0, 2], s_text,
            (id, customer, items, placed, tags, attachment, payment, paymentText) =>
            {
                var order = new Order { Id = id, Customer = customer, Placed = placed, Attachment = ByteString.CopyFrom(attachment) };
                order.Items.Add(items);
                foreach ((string key, string value) in tags)
                {
                    order.Tags[key] = value;
                }

                if (payment == 1)
                {
                    order.Card = paymentText;
                }
                else if (payment == 2)
                {
                    order.Invoice = paymentText;
                }

                return order;
            });

    private static readonly Gen<Value> s_value = Gen.OneOf(
        Gen.Int.Select(v => new Value(Kind.Int32, v)),
        Gen.Long.Select(v => new Value(Kind.Int64, v)),
        Gen.Double.Select(v => new Value(Kind.Double, v)),
        Gen.Byte.Select(v => new Value(Kind.Byte, v)),
        Gen.Guid.Select(v => new Value(Kind.Guid, v)),
        Gen.Decimal.Select(v => new Value(Kind.Decimal, v)),
        Gen.Select(Gen.Int, Gen.Int).Select(v => new Value(Kind.Pair, v)),
        s_text.Null(0.15).Select(v => new Value(Kind.String, v)),
        s_bytes.Null(0.15).Select(v => new Value(Kind.ByteArray, v)),
        s_bytes.Select(v => new Value(Kind.Memory, (ReadOnlyMemory<byte>)v)),
        s_bytes.Select(v => new Value(Kind.Span, v)),
        Gen.Int.Array[0, 16].Null(0.15).Select(v => new Value(Kind.Int32Array, v)),
        Gen.Long.Array[0, 16].Null(0.15).Select(v => new Value(Kind.Int64Array, v)),
        s_timestamp.Null(0.15).Select(v => new Value(Kind.Timestamp, v)),
        s_duration.Null(0.15).Select(v => new Value(Kind.Duration, v)),
        s_struct.Null(0.15).Select(v => new Value(Kind.Struct, v)),
        s_order.Null(0.15).Select(v => new Value(Kind.Order, v)));

    private static readonly Gen<Value[]> s_body = s_value.Array[0, 8];

    private static readonly Gen<Kind> s_kind = Gen.Enum<Kind>();

    // ---- writing and reading a body of values ----

    private static int SizeOf(Value value) => value.Kind switch
    {
        Kind.Int32 => RpalWriter.SizeOf<int>(),
        Kind.Int64 => RpalWriter.SizeOf<long>(),
        Kind.Double => RpalWriter.SizeOf<double>(),
        Kind.Byte => RpalWriter.SizeOf<byte>(),
        Kind.Guid => RpalWriter.SizeOf<Guid>(),
        Kind.Decimal => RpalWriter.SizeOf<decimal>(),
        Kind.Pair => RpalWriter.SizeOf<(int, int)>(),
        Kind.String => RpalWriter.SizeOf((string?)value.Payload),
        Kind.ByteArray => RpalWriter.SizeOf((byte[]?)value.Payload),
        Kind.Memory => RpalWriter.SizeOf((ReadOnlyMemory<byte>)value.Payload!),
        Kind.Span => RpalWriter.SizeOf(((byte[])value.Payload!).AsSpan()),
        Kind.Int32Array => RpalWriter.SizeOfArray((int[]?)value.Payload),
        Kind.Int64Array => RpalWriter.SizeOfArray((long[]?)value.Payload),
        _ => RpalWriter.SizeOf((IMessage?)value.Payload),
    };

    private static void Write(ref RpalWriter writer, Value value)
    {
        switch (value.Kind)
        {
            case Kind.Int32: writer.Write((int)value.Payload!); break;
            case Kind.Int64: writer.Write((long)value.Payload!); break;
            case Kind.Double: writer.Write((double)value.Payload!); break;
            case Kind.Byte: writer.Write((byte)value.Payload!); break;
            case Kind.Guid: writer.Write((Guid)value.Payload!); break;
            case Kind.Decimal: writer.Write((decimal)value.Payload!); break;
            case Kind.Pair: writer.Write(((int, int))value.Payload!); break;
            case Kind.String: writer.Write((string?)value.Payload); break;
            case Kind.ByteArray: writer.Write((byte[]?)value.Payload); break;
            case Kind.Memory: writer.Write((ReadOnlyMemory<byte>)value.Payload!); break;
            case Kind.Span: writer.Write(((byte[])value.Payload!).AsSpan()); break;
            case Kind.Int32Array: writer.WriteArray((int[]?)value.Payload); break;
            case Kind.Int64Array: writer.WriteArray((long[]?)value.Payload); break;
            default: writer.Write((IMessage?)value.Payload); break;
        }
    }

    private static byte[] Encode(Value[] values)
    {
        var body = new byte[values.Sum(SizeOf)];
        var writer = new RpalWriter(body);
        foreach (Value value in values)
        {
            Write(ref writer, value);
        }

        Assert.Equal(body.Length, writer.Position);
        return body;
    }

    /// <summary>Reads one value of <paramref name="kind"/>, as the generated code would.</summary>
    private static object? Read(ref RpalReader reader, Kind kind) => kind switch
    {
        Kind.Int32 => reader.Read<int>(),
        Kind.Int64 => reader.Read<long>(),
        Kind.Double => reader.Read<double>(),
        Kind.Byte => reader.Read<byte>(),
        Kind.Guid => reader.Read<Guid>(),
        Kind.Decimal => reader.Read<decimal>(),
        Kind.Pair => reader.Read<(int, int)>(),
        Kind.String => reader.ReadString(),
        Kind.ByteArray => reader.ReadByteArray(),
        Kind.Memory => reader.ReadMemory(),
        Kind.Span => reader.ReadSpan().ToArray(),
        Kind.Int32Array => reader.ReadArray<int>(),
        Kind.Int64Array => reader.ReadArray<long>(),
        Kind.Timestamp => reader.ReadMessage(Timestamp.Parser),
        Kind.Duration => reader.ReadMessage(Duration.Parser),
        Kind.Struct => reader.ReadMessage(Struct.Parser),
        _ => reader.ReadMessage(Order.Parser),
    };

    private static void AssertSame(Value expected, object? actual)
    {
        switch (expected.Kind)
        {
            case Kind.Double:
                // Bit for bit: NaN payloads and -0.0 included.
                Assert.Equal(BitConverter.DoubleToInt64Bits((double)expected.Payload!), BitConverter.DoubleToInt64Bits((double)actual!));
                break;
            case Kind.Decimal:
                Assert.Equal(decimal.GetBits((decimal)expected.Payload!), decimal.GetBits((decimal)actual!));
                break;
            case Kind.Memory:
                Assert.Equal(((ReadOnlyMemory<byte>)expected.Payload!).ToArray(), ((ReadOnlyMemory<byte>)actual!).ToArray());
                break;
            default:
                // Protobuf messages compare by value (doubles bitwise); arrays element by element.
                Assert.Equal(expected.Payload, actual);
                break;
        }
    }

    private static void AssertRoundTrips(Value[] values, Func<byte[], RpalReaderFactory> open)
    {
        byte[] body = Encode(values);
        RpalReaderFactory factory = open(body);
        RpalReader reader = factory.Create();
        foreach (Value value in values)
        {
            AssertSame(value, Read(ref reader, value.Kind));
        }

        Assert.Equal(0, reader.Remaining);
    }

    /// <summary>Makes a reader over a body, over a span or over a <see cref="MemoryManager{T}"/>.</summary>
    private readonly struct RpalReaderFactory(byte[] body, bool overMemory)
    {
        public RpalReader Create() => overMemory ? new RpalReader(new ArrayMemoryManager(body)) : new RpalReader(body.AsSpan());
    }

    /// <summary>The server's view of a payload: a reader that returns slices without a copy.</summary>
    private sealed class ArrayMemoryManager(byte[] array) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => array;

        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }

    // ---- 1. round trips ----

    [Fact]
    public void EveryWireType_RoundTrips_OverASpan() =>
        s_body.Sample(values => AssertRoundTrips(values, body => new RpalReaderFactory(body, overMemory: false)),
            iter: RoundTripIterations, threads: 1);

    [Fact]
    public void EveryWireType_RoundTrips_OverAMemoryManager() =>
        s_body.Sample(values => AssertRoundTrips(values, body => new RpalReaderFactory(body, overMemory: true)),
            iter: RoundTripIterations, threads: 1);

    [Fact]
    public void SizeOf_IsExactlyWhatWriteWrites() =>
        s_value.Sample(value =>
        {
            // A buffer of exactly SizeOf: Write neither overflows it nor leaves a byte unwritten.
            var buffer = new byte[SizeOf(value)];
            var writer = new RpalWriter(buffer);
            Write(ref writer, value);
            Assert.Equal(buffer.Length, writer.Position);
        }, iter: RoundTripIterations, threads: 1);

    // ---- 2. untrusted input ----

    /// <summary>
    /// Reads <paramref name="kinds"/> in turn from <paramref name="input"/> until the reader
    /// rejects the body; anything but <see cref="RpalDecodeException"/> fails the property.
    /// </summary>
    private static void ReadHostile(byte[] input, Kind[] kinds, bool overMemory)
    {
        // A copy of exactly the input: a read past its end is an exception of another type.
        byte[] exact = input.ToArray();
        RpalReader reader = new RpalReaderFactory(exact, overMemory).Create();
        int remaining = reader.Remaining;
        Assert.Equal(exact.Length, remaining);
        foreach (Kind kind in kinds)
        {
            try
            {
                object? value = Read(ref reader, kind);
                if (value is ReadOnlyMemory<byte> memory)
                {
                    Assert.True(memory.Length <= remaining);
                }
            }
            catch (RpalDecodeException)
            {
                return;
            }

            Assert.InRange(reader.Remaining, 0, remaining);
            remaining = reader.Remaining;
        }
    }

    private static readonly Gen<Kind[]> s_kinds = s_kind.Array[1, 8];

    [Fact]
    public void RandomBytes_AreReadOrRejected_WithRpalDecodeException() =>
        Gen.Select(Gen.Byte.Array[0, 96], s_kinds, Gen.Bool)
            .Sample((input, kinds, overMemory) => ReadHostile(input, kinds, overMemory), iter: HostileIterations, threads: 1);

    private enum Mutation
    {
        Truncate,
        FlipByte,
        SetInt32,
    }

    private static readonly Gen<int> s_hostileLength = Gen.OneOf(
        Gen.OneOf(int.MinValue, -2, -1, 0, 1, int.MaxValue, int.MaxValue - 3, int.MaxValue / 4 + 1, int.MaxValue / 8 + 1, 1 << 30),
        Gen.Int);

    /// <summary>A valid body, the kinds it was written as, and one mutation of it.</summary>
    private static readonly Gen<(byte[] Body, Kind[] Kinds)> s_mutated =
        Gen.Select(s_body.Where(b => b.Length > 0), Gen.Enum<Mutation>(), Gen.Int[0, int.MaxValue], Gen.Byte[1, 255], s_hostileLength,
            (values, mutation, where, mask, length) =>
            {
                byte[] body = Encode(values);
                Kind[] kinds = [.. values.Select(v => v.Kind)];
                if (body.Length == 0)
                {
                    return (body, kinds);
                }

                int at = where % body.Length;
                switch (mutation)
                {
                    case Mutation.Truncate:
                        return (body[..at], kinds);
                    case Mutation.FlipByte:
                        body[at] ^= mask;
                        return (body, kinds);
                    default:
                        // Overwrite 4 bytes (a length field, or the middle of a value) with a hostile int.
                        if (body.Length >= 4)
                        {
                            BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(Math.Min(at, body.Length - 4)), length);
                        }

                        return (body, kinds);
                }
            });

    [Fact]
    public void MutatedBodies_AreReadOrRejected_WithRpalDecodeException() =>
        Gen.Select(s_mutated, Gen.Bool)
            .Sample((mutated, overMemory) => ReadHostile(mutated.Body, mutated.Kinds, overMemory), iter: HostileIterations, threads: 1);

    [Fact]
    public void HostileLengthPrefix_IsReadOrRejected_ByEveryLengthPrefixedRead() =>
        // A length-prefixed value whose length is hostile, followed by a few bytes.
        Gen.Select(s_hostileLength, Gen.Byte.Array[0, 32], s_kind, Gen.Bool)
            .Sample((length, tail, kind, overMemory) =>
            {
                var input = new byte[4 + tail.Length];
                BinaryPrimitives.WriteInt32LittleEndian(input, length);
                tail.CopyTo(input, 4);
                ReadHostile(input, [kind, kind], overMemory);
            }, iter: HostileIterations, threads: 1);

    /// <summary>A protobuf message body: a length that fits, then arbitrary bytes.</summary>
    private static readonly Gen<byte[]> s_framedGarbage =
        Gen.OneOf(
            Gen.Byte.Array[0, 96],
            // Mutations of a valid encoding parse further before failing.
            Gen.Select(s_order, Gen.Int[0, int.MaxValue], Gen.Byte[1, 255], (order, where, mask) =>
            {
                byte[] bytes = order.ToByteArray();
                if (bytes.Length > 0)
                {
                    bytes[where % bytes.Length] ^= mask;
                }

                return bytes;
            }))
        .Select(payload =>
        {
            var input = new byte[4 + payload.Length];
            BinaryPrimitives.WriteInt32LittleEndian(input, payload.Length);
            payload.CopyTo(input, 4);
            return input;
        });

    [Fact]
    public void ProtobufGarbage_IsParsedOrRejected_WithRpalDecodeException() =>
        Gen.Select(s_framedGarbage, Gen.OneOf(Kind.Timestamp, Kind.Duration, Kind.Struct, Kind.Order), Gen.Bool)
            .Sample((input, kind, overMemory) => ReadHostile(input, [kind], overMemory), iter: HostileIterations, threads: 1);

    [Fact]
    public void DeeplyNestedMessage_IsRejected_WithRpalDecodeException() =>
        // Past protobuf's recursion limit (100): rejected as a decode error, not a stack overflow.
        Gen.Int[101, 400].Sample(depth =>
        {
            var value = Google.Protobuf.WellKnownTypes.Value.ForNull();
            for (int i = 0; i < depth; i++)
            {
                value = Google.Protobuf.WellKnownTypes.Value.ForList(value);
            }

            var root = new Struct();
            root.Fields["deep"] = value;
            byte[] body = Encode([new Value(Kind.Struct, root)]);
            Assert.Throws<RpalDecodeException>(() =>
            {
                var reader = new RpalReader(body);
                reader.ReadMessage(Struct.Parser);
            });
        }, iter: 20, threads: 1);
}
