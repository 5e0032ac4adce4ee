using System.Globalization;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>Reads /proc/PID/maps: which mapping holds an address, with what permissions.</summary>
internal static class ProcMaps
{
    public static bool Available => File.Exists("/proc/self/maps");

    /// <summary>The mapping of process <paramref name="pid"/> that contains <paramref name="address"/>, or null.</summary>
    public static Mapping? Find(int pid, ulong address)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/maps"))
        {
            // start-end perms offset dev inode [path]
            string[] parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            string[] range = parts[0].Split('-');
            ulong start = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (address >= start && address < end)
            {
                return new Mapping(start, end, parts[1], parts.Length > 5 ? parts[5].Trim() : "");
            }
        }

        return null;
    }

    internal sealed record Mapping(ulong Start, ulong End, string Permissions, string Path);
}
