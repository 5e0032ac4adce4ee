// The representative service of the generator tests: every method shape (sync value, void,
// Task, Task<T>, ValueTask, ValueTask<T>, no parameters, a trailing CancellationToken,
// overloads, an inherited method, keyword and clashing names; server, client and duplex
// streaming, with and without other parameters and a token) and every supported type
// (primitives, enums, unmanaged structs, tuples, string, byte[],
// ReadOnlyMemory<byte>, ReadOnlySpan<byte> parameters, arrays of unmanaged types, protobuf
// messages, nullable and not), also as stream elements.
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

    // Server streaming.
    IAsyncEnumerable<int> Range(int start, int count, CancellationToken cancellationToken);

    IAsyncEnumerable<Timestamp> Ticks();

    IAsyncEnumerable<ReadOnlyMemory<byte>> ReadChunks(string name, int chunkSize);

    // Client streaming: the stream first, in the middle, last; with and without a result.
    Task<long> SumAsync(IAsyncEnumerable<int> values, CancellationToken cancellationToken);

    ValueTask<int> UploadAsync(string name, IAsyncEnumerable<ReadOnlyMemory<byte>> chunks, Guid id);

    Task AppendAsync(string key, IAsyncEnumerable<string?> lines);

    ValueTask WaitAllAsync(IAsyncEnumerable<Duration> delays, CancellationToken cancellationToken);

    // Duplex streaming.
    IAsyncEnumerable<string> Chat(IAsyncEnumerable<string> messages, CancellationToken cancellationToken);

    IAsyncEnumerable<Timestamp> Shift(Duration delta, IAsyncEnumerable<Timestamp> times);

    /// <summary>Has a body: runs in the caller, not part of the service.</summary>
    int AddThree(int a) => Add(Add(a, 1), 2);

    /// <summary>Static: not part of the service.</summary>
    static int Version() => 1;
}
