namespace Rpal.Rpc.TestContracts;

/// <summary>Every wire type, echoed back: primitives, enums, unmanaged structs, strings, byte sequences and arrays.</summary>
[RpalService(ServiceNames.Types)]
public interface ITypeRoundTrip
{
    byte EchoByte(byte value);

    sbyte EchoSByte(sbyte value);

    short EchoInt16(short value);

    ushort EchoUInt16(ushort value);

    int EchoInt32(int value);

    uint EchoUInt32(uint value);

    long EchoInt64(long value);

    ulong EchoUInt64(ulong value);

    float EchoSingle(float value);

    double EchoDouble(double value);

    bool EchoBoolean(bool value);

    char EchoChar(char value);

    decimal EchoDecimal(decimal value);

    Guid EchoGuid(Guid value);

    DateTime EchoDateTime(DateTime value);

    TimeSpan EchoTimeSpan(TimeSpan value);

    nint EchoNativeInt(nint value);

    /// <summary>Formats every argument, in order (many arguments: a body larger than the inline words).</summary>
    string FormatAll(byte a, sbyte b, short c, ushort d, int e, uint f, long g, ulong h, float i, double j, bool k, char l, decimal m);

    Color EchoColor(Color value);

    Permissions EchoPermissions(Permissions value);

    Vector3D ScaleVector(Vector3D value, double factor);

    Sample EchoSample(Sample value);

    (int Low, int High) Swap((int Low, int High) pair);

    string? EchoString(string? value);

    /// <summary>The number of UTF-8 bytes of <paramref name="value"/> as the server counts them.</summary>
    int Utf8Length(string value);

    Task<string?> EchoStringTaskAsync(string? value);

    byte[]? EchoBytes(byte[]? value);

    ValueTask<byte[]?> EchoBytesAsync(byte[]? value);

    ReadOnlyMemory<byte> EchoMemory(ReadOnlyMemory<byte> value);

    /// <summary>Suspends before it answers: the argument must still be readable then.</summary>
    ValueTask<ReadOnlyMemory<byte>> EchoMemoryAfterYieldAsync(ReadOnlyMemory<byte> value);

    int[]? EchoInt32Array(int[]? values);

    double[]? EchoDoubleArray(double[]? values);

    Color[]? EchoColorArray(Color[]? values);

    Vector3D[]? EchoVectorArray(Vector3D[]? values);

    Task<long[]> ScaleArrayAsync(long[] values, long factor);
}
