using System.Globalization;
using System.Text;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>Every supported type goes to the server and back unchanged.</summary>
[Collection(SharedServerDefinition.Name)]
public sealed class TypeRoundTripTests(SharedServerFixture fixture)
{
    private const string NonAscii = "Grüße, Καλημέρα, Привет, 日本語, عربى, 🎉👩‍👩‍👧";

    private readonly ITypeRoundTrip _client = fixture.Client<ITypeRoundTrip>();

    public static TheoryData<string?> Strings => new()
    {
        null,
        "",
        "a",
        "hello",
        NonAscii,
        "nul\0inside",
        string.Concat(Enumerable.Repeat(NonAscii, 5_000)),
    };

    [Fact]
    public void IntegerPrimitives_RoundTrip()
    {
        Assert.Equal(byte.MaxValue, _client.EchoByte(byte.MaxValue));
        Assert.Equal(sbyte.MinValue, _client.EchoSByte(sbyte.MinValue));
        Assert.Equal(short.MinValue, _client.EchoInt16(short.MinValue));
        Assert.Equal(ushort.MaxValue, _client.EchoUInt16(ushort.MaxValue));
        Assert.Equal(int.MinValue, _client.EchoInt32(int.MinValue));
        Assert.Equal(uint.MaxValue, _client.EchoUInt32(uint.MaxValue));
        Assert.Equal(long.MinValue, _client.EchoInt64(long.MinValue));
        Assert.Equal(ulong.MaxValue, _client.EchoUInt64(ulong.MaxValue));
        Assert.Equal(nint.MinValue, _client.EchoNativeInt(nint.MinValue));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(int.MinValue)] // -0
    [InlineData(0x7FC00000)] // NaN
    [InlineData(0x7FC00001)] // NaN with a payload
    [InlineData(unchecked((int)0xFF800000))] // -infinity
    [InlineData(1)] // the smallest subnormal
    [InlineData(0x7F7FFFFF)] // float.MaxValue
    public void Single_RoundTripsBitForBit(int bits) =>
        Assert.Equal(bits, BitConverter.SingleToInt32Bits(_client.EchoSingle(BitConverter.Int32BitsToSingle(bits))));

    [Theory]
    [InlineData(0L)]
    [InlineData(long.MinValue)] // -0
    [InlineData(0x7FF8000000000000L)] // NaN
    [InlineData(0x7FF8000000000123L)] // NaN with a payload
    [InlineData(0x7FF0000000000000L)] // +infinity
    [InlineData(1L)] // the smallest subnormal
    [InlineData(0x400921FB54442D18L)] // pi
    public void Double_RoundTripsBitForBit(long bits) =>
        Assert.Equal(bits, BitConverter.DoubleToInt64Bits(_client.EchoDouble(BitConverter.Int64BitsToDouble(bits))));

    [Fact]
    public void OtherPrimitives_RoundTrip()
    {
        Assert.True(_client.EchoBoolean(true));
        Assert.False(_client.EchoBoolean(false));
        Assert.Equal('ß', _client.EchoChar('ß'));
        Assert.Equal('\uD83C', _client.EchoChar('\uD83C')); // half a surrogate pair is still a char
        Assert.Equal(decimal.MaxValue, _client.EchoDecimal(decimal.MaxValue));
        Assert.Equal("1.10", _client.EchoDecimal(1.10m).ToString(CultureInfo.InvariantCulture)); // the scale too
        Guid guid = Guid.NewGuid();
        Assert.Equal(guid, _client.EchoGuid(guid));
        Assert.Equal(TimeSpan.FromTicks(-123456789), _client.EchoTimeSpan(TimeSpan.FromTicks(-123456789)));
    }

    [Theory]
    [InlineData(DateTimeKind.Utc)]
    [InlineData(DateTimeKind.Local)]
    [InlineData(DateTimeKind.Unspecified)]
    public void DateTime_RoundTripsWithItsKind(DateTimeKind kind)
    {
        var value = new DateTime(2024, 2, 29, 13, 14, 15, kind).AddTicks(7);
        DateTime echoed = _client.EchoDateTime(value);
        Assert.Equal(value.Ticks, echoed.Ticks);
        Assert.Equal(kind, echoed.Kind);
    }

    [Fact]
    public void ManyArguments_ArriveInOrder()
    {
        object[] values = [(byte)200, (sbyte)-100, (short)-30000, (ushort)60000, -2_000_000_000, 4_000_000_000u,
            long.MinValue + 1, ulong.MaxValue - 1, 1.5f, -2.25, true, 'Z', 79228162514264337593543950335m];
        string expected = string.Join('|', values.Select(o => Convert.ToString(o, CultureInfo.InvariantCulture)));
        Assert.Equal(expected, _client.FormatAll(200, -100, -30000, 60000, -2_000_000_000, 4_000_000_000u,
            long.MinValue + 1, ulong.MaxValue - 1, 1.5f, -2.25, true, 'Z', 79228162514264337593543950335m));
    }

    [Fact]
    public void Enums_RoundTrip_IncludingUndefinedValues()
    {
        Assert.Equal(Color.Blue, _client.EchoColor(Color.Blue));
        Assert.Equal((Color)77, _client.EchoColor((Color)77));
        Assert.Equal(Permissions.Admin | Permissions.Read, _client.EchoPermissions(Permissions.Admin | Permissions.Read));
    }

    [Fact]
    public void UnmanagedStructs_RoundTrip()
    {
        Assert.Equal(new Vector3D(2, -4, 6.5), _client.ScaleVector(new Vector3D(1, -2, 3.25), 2));
        var sample = new Sample(0xAB, long.MinValue, -5, Guid.NewGuid(), Color.Green, true, 'ß', 12.345m);
        Assert.Equal(sample, _client.EchoSample(sample));
        Assert.Equal((9, 1), _client.Swap((1, 9)));
    }

    [Theory]
    [MemberData(nameof(Strings))]
    public async Task Strings_RoundTrip(string? value)
    {
        Assert.Equal(value, _client.EchoString(value));
        Assert.Equal(value, await _client.EchoStringTaskAsync(value));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("é")]
    [InlineData("🎉")]
    [InlineData(NonAscii)]
    public void Strings_TravelAsUtf8(string value) =>
        Assert.Equal(Encoding.UTF8.GetByteCount(value), _client.Utf8Length(value));

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(100_000)]
    [InlineData(8 << 20)]
    public async Task ByteArrays_RoundTrip(int length)
    {
        byte[]? data = length < 0 ? null : RandomBytes(length);
        Assert.Equal(data, _client.EchoBytes(data));
        Assert.Equal(data, await _client.EchoBytesAsync(data));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(64 << 10)]
    public async Task ReadOnlyMemory_RoundTrips(int length)
    {
        byte[] data = RandomBytes(length);
        Assert.Equal(data, _client.EchoMemory(data).ToArray());
        Assert.Equal(data, (await _client.EchoMemoryAfterYieldAsync(data)).ToArray());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(100_000)]
    public void ArraysOfUnmanagedValues_RoundTrip(int length)
    {
        int[]? ints = length < 0 ? null : [.. Enumerable.Range(0, length).Select(i => i * 7919 - 50_000)];
        double[]? doubles = ints?.Select(i => i / 3.0).ToArray();
        Color[]? colors = ints?.Select(i => (Color)(i & 0xFF)).ToArray();
        Vector3D[]? vectors = ints?.Select(i => new Vector3D(i, -i, i * 0.5)).ToArray();
        Assert.Equal(ints, _client.EchoInt32Array(ints));
        Assert.Equal(doubles, _client.EchoDoubleArray(doubles));
        Assert.Equal(colors, _client.EchoColorArray(colors));
        Assert.Equal(vectors, _client.EchoVectorArray(vectors));
    }

    [Fact]
    public async Task AnArrayAndAValue_ReachAnAsyncHandler() =>
        Assert.Equal(new long[] { -3, 0, long.MaxValue - 1 }, await _client.ScaleArrayAsync([-1, 0, (long.MaxValue - 1) / 3], 3));

    private static byte[] RandomBytes(int length)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        return data;
    }
}
