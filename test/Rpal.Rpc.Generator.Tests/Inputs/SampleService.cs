// The representative service of the generator tests: every method shape (sync value, void,
// Task, Task<T>, ValueTask, ValueTask<T>, no parameters, a trailing CancellationToken,
// overloads, an inherited method, keyword and clashing names) and every supported type
// (primitives, enums, unmanaged structs, tuples, string, byte[],
// ReadOnlyMemory<byte>, ReadOnlySpan<byte> parameters, arrays of unmanaged types, protobuf
// messages, nullable and not).
using Google.Protobuf.WellKnownTypes;
using Rpal.Rpc;

namespace Demo.Sample;

public enum Color : byte
{
    Red,
    Green,
    Blue,
}

public struct Point3
{
    public double X;
    public double Y;
    public double Z;
}

/// <summary>A base interface: its methods are part of every service that inherits it.</summary>
public interface IHealth
{
    int Ping();
}

[RpalService("demo.sample")]
public interface ISampleService : IHealth
{
    int Add(int a, int b);

    long Add(long a, long b);

    void Log(string message);

    void Shutdown();

    string? Describe(Color color, Point3 point, int limit, (int Major, int Minor) version);

    Task<byte[]> EchoBytesAsync(byte[] data, CancellationToken cancellationToken);

    ValueTask<ReadOnlyMemory<byte>> EchoMemoryAsync(ReadOnlyMemory<byte> data);

    Task<long[]> ScaleAsync(long[] values, long factor);

    ValueTask<Timestamp> AddAsync(Timestamp time, Duration? delta);

    Task ResetAsync(CancellationToken cancellationToken);

    ValueTask NotifyAsync(string? note, byte[]? attachment, Guid id);

    string Greet(string Write, string request, DateTime @event);

    int Checksum(ReadOnlySpan<byte> data, int seed);

    ValueTask<int> CountAsync(ReadOnlySpan<byte> data, byte value, CancellationToken cancellationToken);

    ValueTask StoreAsync(string key, ReadOnlySpan<byte> data);

    /// <summary>Has a body: runs in the caller, not part of the service.</summary>
    int AddThree(int a) => Add(Add(a, 1), 2);

    /// <summary>Static: not part of the service.</summary>
    static int Version() => 1;
}
