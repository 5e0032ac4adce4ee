using System.Collections.Concurrent;
using System.Globalization;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

/// <summary>The server side of the Backpressure tests (<see cref="IBackpressureService"/>).</summary>
internal sealed class BackpressureService : IBackpressureService
{
    private readonly ConcurrentDictionary<int, Gate> _gates = new();

    public int Echo(int id) => id;

    public async ValueTask<int> HoldAsync(int gate, int id, CancellationToken cancellationToken = default)
    {
        Gate g = _gates.GetOrAdd(gate, _ => new Gate());
        int holding = Interlocked.Increment(ref g.Holding);
        int max = Volatile.Read(ref g.MaxHolding);
        while (holding > max)
        {
            int seen = Interlocked.CompareExchange(ref g.MaxHolding, holding, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }

        Events.Write(string.Create(CultureInfo.InvariantCulture, $"holding {gate} {holding}"));
        try
        {
            await Holds.WhenReleased(gate).WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref g.Holding);
        }

        Interlocked.Increment(ref g.Answered);
        return id;
    }

    public int Answered(int gate) => _gates.TryGetValue(gate, out Gate? g) ? Volatile.Read(ref g.Answered) : 0;

    public int MaxHolding(int gate) => _gates.TryGetValue(gate, out Gate? g) ? Volatile.Read(ref g.MaxHolding) : 0;

    public int Measure(ReadOnlyMemory<byte> data) => data.Length;

    public byte[] Make(int size) => new byte[size];

    public async ValueTask<int> SlowAsync(int id, ReadOnlyMemory<byte> data)
    {
        await Task.Delay(1);
        return id;
    }

    public async IAsyncEnumerable<byte[]> MakeMany(int count, int size)
    {
        for (int i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return new byte[size];
        }
    }

    public async ValueTask<int> IgnoreStreamAsync(int gate, IAsyncEnumerable<int> items, CancellationToken cancellationToken = default)
    {
        Events.Write(string.Create(CultureInfo.InvariantCulture, $"holding {gate} 1"));
        await Holds.WhenReleased(gate).WaitAsync(cancellationToken);
        return 0;
    }

    public async ValueTask<int> CountAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> items)
    {
        int n = 0;
        await foreach (ReadOnlyMemory<byte> _ in items)
        {
            n++;
        }

        return n;
    }

    private sealed class Gate
    {
        public int Holding;
        public int MaxHolding;
        public int Answered;
    }
}
