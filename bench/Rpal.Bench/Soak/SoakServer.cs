using System.Globalization;
using System.Numerics;
using Rpal.Bench.Contracts;
using Rpal.Rpc;
using Rpal.Runtime;

namespace Rpal.Bench.Soak;

/// <summary>
/// <c>serve-soak CLIENTS CALLS_PER_CLIENT SPIN_NS</c>: the soak's server, pinned to
/// <see cref="Affinity.ServerCore"/>. It checks every payload, answers what the client expects,
/// and records each (client, sequence number) in a bitset per client to count what it saw once
/// and what it saw again. Its bitsets are allocated before "ready", so they are in the resident
/// memory the warm-up sample takes.
/// </summary>
internal static class SoakServer
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 3
            || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int clients)
            || !long.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out long perClient)
            || !long.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out long spinNs))
        {
            await Console.Error.WriteLineAsync("usage: rpal-bench serve-soak CLIENTS CALLS_PER_CLIENT SPIN_NS");
            return 2;
        }

        if (!Affinity.PinProcess(Affinity.ServerCore))
        {
            await Console.Error.WriteLineAsync("rpal-bench serve-soak: not pinned (one core, or sched_setaffinity failed)");
        }

        RpalEngine.Start(new RpalEngineOptions { SpinBudget = TimeSpan.FromMicroseconds(spinNs / 1000.0) });
        await using var server = new RpalServer();
        server.AddService<ISoakService>(new SoakService(clients, perClient));
        await server.StartAsync();
        await ChildProcess.ServeUntilStdinClosesAsync();
        return 0;
    }

    private sealed class SoakService(int clients, long perClient) : ISoakService
    {
        private readonly ClientRecord[] _records = [.. Enumerable.Range(0, clients).Select(_ => new ClientRecord(perClient))];
        private long _unknownClient;

        public long Ping(int client, long sequence)
        {
            ulong key = SoakPayload.Key(client, sequence);
            Record(client, sequence, corrupt: SoakPayload.KindOf(key) != SoakPayload.Kind.Ping);
            return SoakPayload.PingReply(key);
        }

        public async ValueTask<long> PingAsync(int client, long sequence)
        {
            if ((sequence & 15) == 0)
            {
                await Task.Yield(); // a handler that suspends and completes later, on its receiver
            }

            return Ping(client, sequence);
        }

        public ReadOnlyMemory<byte> Echo(int client, long sequence, ReadOnlyMemory<byte> data)
        {
            ulong key = SoakPayload.Key(client, sequence);
            Record(client, sequence, corrupt: SoakPayload.KindOf(key) == SoakPayload.Kind.Ping || !SoakPayload.IsPayloadOf(data.Span, key));
            byte[] reply = data.Length == 0 ? [] : new byte[data.Length];
            SoakPayload.Invert(data.Span, reply);
            return reply;
        }

        public async ValueTask<ReadOnlyMemory<byte>> EchoAsync(int client, long sequence, ReadOnlyMemory<byte> data)
        {
            if ((sequence & 15) == 0)
            {
                await Task.Yield(); // data views the caller's arena until the call is answered
            }

            return Echo(client, sequence, data);
        }

        public long Progress()
        {
            long sum = 0;
            foreach (ClientRecord r in _records)
            {
                sum += Volatile.Read(ref r.Arrivals);
            }

            return sum;
        }

        public SoakCounts Counts(int client, long sent)
        {
            if ((uint)client >= (uint)_records.Length)
            {
                return new SoakCounts { Stray = Volatile.Read(ref _unknownClient) };
            }

            ClientRecord r = _records[client];
            long seen = 0, beyond = 0;
            for (int w = 0; w < r.Bits.Length; w++)
            {
                ulong word = Volatile.Read(ref r.Bits[w]);
                long first = (long)w * 64;
                ulong below = first + 64 <= sent ? ulong.MaxValue : first >= sent ? 0 : (1UL << (int)(sent - first)) - 1;
                seen += BitOperations.PopCount(word & below);
                beyond += BitOperations.PopCount(word & ~below);
            }

            return new SoakCounts
            {
                SeenOnce = seen,
                Duplicated = Volatile.Read(ref r.Duplicated),
                Stray = beyond + Volatile.Read(ref r.OutOfRange),
                Corrupt = Volatile.Read(ref r.Corrupt),
            };
        }

        private void Record(int client, long sequence, bool corrupt)
        {
            if ((uint)client >= (uint)_records.Length)
            {
                Interlocked.Increment(ref _unknownClient);
                return;
            }

            ClientRecord r = _records[client];
            Interlocked.Increment(ref r.Arrivals);
            if (corrupt)
            {
                Interlocked.Increment(ref r.Corrupt);
            }

            if ((ulong)sequence >= (ulong)perClient)
            {
                Interlocked.Increment(ref r.OutOfRange);
                return;
            }

            ulong bit = 1UL << (int)(sequence & 63);
            // Interlocked: with more than one receiver thread, two clients' calls run at once.
            if ((Interlocked.Or(ref r.Bits[sequence >> 6], bit) & bit) != 0)
            {
                Interlocked.Increment(ref r.Duplicated);
            }
        }
    }

    /// <summary>What the server saw of one client: a bit per sequence number, and counters.</summary>
    private sealed class ClientRecord(long perClient)
    {
        public readonly ulong[] Bits = new ulong[(perClient + 63) / 64];
        public long Arrivals;
        public long Duplicated;
        public long OutOfRange;
        public long Corrupt;
    }
}
