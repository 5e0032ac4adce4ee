// The server side of the round-trip test: plain code, no Rpal types.
using Google.Protobuf.WellKnownTypes;

namespace Demo.Sample;

public sealed class SampleServiceImplementation : ISampleService
{
    public List<string> Log { get; } = new();

    public int Ping() => 7;

    public int Add(int a, int b) => a + b;

    public long Add(long a, long b) => a + b + 1_000_000_000_000;

    void ISampleService.Log(string message) => Log.Add(message);

    public void Shutdown() => Log.Add("shutdown");

    public string? Describe(Color color, Point3 point, int limit, (int Major, int Minor) version) =>
        limit < 0 ? null : $"{color} ({point.X}, {point.Y}, {point.Z}) {limit} v{version.Major}.{version.Minor}";

    public async Task<byte[]> EchoBytesAsync(byte[] data, CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        return data.Reverse().ToArray();
    }

    public ValueTask<ReadOnlyMemory<byte>> EchoMemoryAsync(ReadOnlyMemory<byte> data) => new(data.ToArray().Concat(data.ToArray()).ToArray());

    public Task<long[]> ScaleAsync(long[] values, long factor) => Task.FromResult(values.Select(v => v * factor).ToArray());

    public ValueTask<Timestamp> AddAsync(Timestamp time, Duration? delta) =>
        new(Timestamp.FromDateTime(time.ToDateTime() + (delta?.ToTimeSpan() ?? TimeSpan.Zero)));

    public async Task ResetAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(1, cancellationToken);
        Log.Add("reset");
    }

    public ValueTask NotifyAsync(string? note, byte[]? attachment, Guid id)
    {
        Log.Add($"notify {note ?? "<null>"} {(attachment is null ? "<null>" : attachment.Length.ToString())} {id}");
        return ValueTask.CompletedTask;
    }

    public string Greet(string Write, string request, DateTime @event) => $"{Write} {request} {@event:yyyy-MM-dd}";

    public string? Stored { get; private set; }

    public int Checksum(ReadOnlySpan<byte> data, int seed)
    {
        int sum = seed;
        foreach (byte b in data)
        {
            sum += b;
        }

        return sum;
    }

    public ValueTask<int> CountAsync(ReadOnlySpan<byte> data, byte value, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return new(data.Count(value));
    }

    public ValueTask StoreAsync(string key, ReadOnlySpan<byte> data)
    {
        Stored = $"{key} {Convert.ToHexString(data)}";
        return ValueTask.CompletedTask;
    }
}
