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

        cpu_set_t set = default;
        int c = core % Environment.ProcessorCount;
        ((byte*)&set)[c / 8] |= (byte)(1 << (c % 8));
        return sched_setaffinity(0, (size_t)sizeof(cpu_set_t), &set) == 0;
    }

    /// <summary>The core the client side runs on, and the one the server side runs on.</summary>
    public const int ClientCore = 0;

    /// <inheritdoc cref="ClientCore"/>
    public const int ServerCore = 1;
}
