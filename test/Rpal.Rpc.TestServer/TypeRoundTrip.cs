using System.Globalization;
using System.Text;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

internal sealed class TypeRoundTrip : ITypeRoundTrip
{
    public byte EchoByte(byte value) => value;

    public sbyte EchoSByte(sbyte value) => value;

    public short EchoInt16(short value) => value;

    public ushort EchoUInt16(ushort value) => value;

    public int EchoInt32(int value) => value;

    public uint EchoUInt32(uint value) => value;

    public long EchoInt64(long value) => value;

    public ulong EchoUInt64(ulong value) => value;

    public float EchoSingle(float value) => value;

    public double EchoDouble(double value) => value;

    public bool EchoBoolean(bool value) => value;

    public char EchoChar(char value) => value;

    public decimal EchoDecimal(decimal value) => value;

    public Guid EchoGuid(Guid value) => value;

    public DateTime EchoDateTime(DateTime value) => value;

    public TimeSpan EchoTimeSpan(TimeSpan value) => value;

    public nint EchoNativeInt(nint value) => value;

    public string FormatAll(byte a, sbyte b, short c, ushort d, int e, uint f, long g, ulong h, float i, double j, bool k, char l, decimal m) =>
        string.Join('|', new object[] { a, b, c, d, e, f, g, h, i, j, k, l, m }.Select(o => Convert.ToString(o, CultureInfo.InvariantCulture)));

    public Color EchoColor(Color value) => value;

    public Permissions EchoPermissions(Permissions value) => value;

    public Vector3D ScaleVector(Vector3D value, double factor) => new(value.X * factor, value.Y * factor, value.Z * factor);

    public Sample EchoSample(Sample value) => value;

    public (int Low, int High) Swap((int Low, int High) pair) => (pair.High, pair.Low);

    public string? EchoString(string? value) => value;

    public int Utf8Length(string value) => Encoding.UTF8.GetByteCount(value);

    public Task<string?> EchoStringTaskAsync(string? value) => Task.FromResult(value);

    public byte[]? EchoBytes(byte[]? value) => value;

    public ValueTask<byte[]?> EchoBytesAsync(byte[]? value) => new(value);

    public ReadOnlyMemory<byte> EchoMemory(ReadOnlyMemory<byte> value) => value;

    public async ValueTask<ReadOnlyMemory<byte>> EchoMemoryAfterYieldAsync(ReadOnlyMemory<byte> value)
    {
        await Task.Yield();
        return value;
    }

    public int[]? EchoInt32Array(int[]? values) => values;

    public double[]? EchoDoubleArray(double[]? values) => values;

    public Color[]? EchoColorArray(Color[]? values) => values;

    public Vector3D[]? EchoVectorArray(Vector3D[]? values) => values;

    public Task<long[]> ScaleArrayAsync(long[] values, long factor) => Task.FromResult(values.Select(v => v * factor).ToArray());
}
