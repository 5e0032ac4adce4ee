// The server side of the round-trip test: plain code, no Rpal types. (The streaming methods are
// compiled with the generated code but not looped back: streams are tested across processes.)
using System.Runtime.CompilerServices;
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

    public async IAsyncEnumerable<int> Range(int start, int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (int i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return start + i;
        }
    }

    public async IAsyncEnumerable<Timestamp> Ticks()
    {
        await Task.Yield();
        yield return Timestamp.FromDateTime(new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        yield return Timestamp.FromDateTime(new DateTime(2024, 1, 1, 0, 0, 1, DateTimeKind.Utc));
    }

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadChunks(string name, int chunkSize)
    {
        byte[] content = System.Text.Encoding.UTF8.GetBytes(name);
        for (int offset = 0; offset < content.Length; offset += chunkSize)
        {
            await Task.Yield();
            yield return content.AsMemory(offset, Math.Min(chunkSize, content.Length - offset));
        }
    }

    public async Task<long> SumAsync(IAsyncEnumerable<int> values, CancellationToken cancellationToken)
    {
        long sum = 0;
        await foreach (int value in values.WithCancellation(cancellationToken))
        {
            sum += value;
        }

        return sum;
    }

    public async ValueTask<int> UploadAsync(string name, IAsyncEnumerable<ReadOnlyMemory<byte>> chunks, Guid id)
    {
        int length = 0;
        await foreach (ReadOnlyMemory<byte> chunk in chunks)
        {
            length += chunk.Length;
        }

        Log.Add($"upload {name} {id} {length}");
        return length;
    }

    public async Task AppendAsync(string key, IAsyncEnumerable<string?> lines)
    {
        await foreach (string? line in lines)
        {
            Log.Add($"{key}: {line ?? "<null>"}");
        }
    }

    public async ValueTask WaitAllAsync(IAsyncEnumerable<Duration> delays, CancellationToken cancellationToken)
    {
        await foreach (Duration delay in delays.WithCancellation(cancellationToken))
        {
            await Task.Delay(delay.ToTimeSpan(), cancellationToken);
        }
    }

    public async IAsyncEnumerable<string> Chat(IAsyncEnumerable<string> messages, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (string message in messages.WithCancellation(cancellationToken))
        {
            yield return "re: " + message;
        }
    }

    public async IAsyncEnumerable<Timestamp> Shift(Duration delta, IAsyncEnumerable<Timestamp> times)
    {
        await foreach (Timestamp time in times)
        {
            yield return Timestamp.FromDateTime(time.ToDateTime() + delta.ToTimeSpan());
        }
    }
}
