using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

/// <summary>Serves the Crash contracts (<see cref="ICrashProbe"/>) for one <see cref="RpalServer"/>.</summary>
internal sealed class CrashProbe(RpalServer server) : ICrashServerTarget, ICrashClientsTarget, ICrashRegistryTarget
{
    public int GetProcessId() => Environment.ProcessId;

    public async ValueTask<int> HoldAsync(int tag, CancellationToken cancellationToken = default)
    {
        await Holds.HoldAsync(tag, cancellationToken);
        return tag;
    }

    public int Hold(int tag)
    {
        Events.Write(ServerEvents.Held, tag);
        Holds.WhenReleased(tag).Wait();
        return tag;
    }

    public async IAsyncEnumerable<long> StreamForever(int tag, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (long i = 0; ; i++)
        {
            yield return i;
            if (i == 0)
            {
                Events.Write(ServerEvents.Held, tag);
            }

            await Task.Yield();
        }
    }

    public ulong Checksum(ReadOnlyMemory<byte> data) => Checksums.Fnv1a64(data.Span);

    public byte[] Fill(int length, byte seed) => CrashFill.Make(length, seed);

    public ServerResources GetResources()
    {
        int fds = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        int maps = File.ReadLines("/proc/self/maps").Count();
        string[] statm = File.ReadAllText("/proc/self/statm").Split(' ');
        long rss = long.Parse(statm[1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        int connections = server.ConnectionCount;
        return new ServerResources(fds, maps, rss, connections);
    }
}

/// <summary>The bytes of <see cref="ICrashProbe.Fill"/>, made the same way on both sides.</summary>
internal static class CrashFill
{
    public static byte[] Make(int length, byte seed)
    {
        var data = new byte[length];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)((i * 31) + seed);
        }

        return data;
    }
}
