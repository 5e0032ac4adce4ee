using System.Globalization;

namespace Rpal.Bench.Soak;

/// <summary>A process's resident memory, from /proc.</summary>
internal static class ProcessMemory
{
    /// <summary>VmRSS of process <paramref name="pid"/> in bytes (/proc/PID/status), or -1 when it cannot be read (the process has gone).</summary>
    public static long ResidentBytes(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    // "VmRSS:     123456 kB"
                    string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return -1;
    }
}
