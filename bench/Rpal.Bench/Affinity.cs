using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Rpal.Bench;

/// <summary>
/// Pins threads to cores (sched_setaffinity), so that the two sides of a benchmark run on
/// different cores. On a machine with one core, or where it fails, it does nothing and says so.
/// </summary>
internal static unsafe class Affinity
{
    /// <summary>Pins the calling thread to <paramref name="core"/> (modulo the core count); false if it could not.</summary>
    public static bool PinCurrentThread(int core)
    {
        if (Environment.ProcessorCount < 2)
        {
            return false;
        }

        cpu_set_t set = Set(core);
        return sched_setaffinity(0, (size_t)sizeof(cpu_set_t), &set) == 0;
    }

    /// <summary>
    /// Pins every thread of this process to <paramref name="core"/> (modulo the core count): the
    /// runtime's threads exist already, and a thread created later inherits the mask of the
    /// thread that creates it. False if it could not pin them all.
    /// </summary>
    public static bool PinProcess(int core)
    {
        if (Environment.ProcessorCount < 2)
        {
            return false;
        }

        cpu_set_t set = Set(core);
        bool all = true;
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int tid))
            {
                all &= sched_setaffinity(tid, (size_t)sizeof(cpu_set_t), &set) == 0;
            }
        }

        return all;
    }

    /// <summary>The cores client threads run on: all but the server's (none to pin on a single core).</summary>
    public static int[] ClientCores() => Environment.ProcessorCount < 2
        ? []
        : [.. Enumerable.Range(0, Environment.ProcessorCount).Where(c => c != ServerCore % Environment.ProcessorCount)];

    /// <summary>The core the client side runs on, and the one the server side runs on.</summary>
    public const int ClientCore = 0;

    /// <inheritdoc cref="ClientCore"/>
    public const int ServerCore = 1;

    private static cpu_set_t Set(int core)
    {
        cpu_set_t set = default;
        int c = core % Environment.ProcessorCount;
        ((byte*)&set)[c / 8] |= (byte)(1 << (c % 8));
        return set;
    }
}
