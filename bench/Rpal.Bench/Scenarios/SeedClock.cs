using System.Diagnostics;
using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace Rpal.Bench;

/// <summary>
/// The clock of the seed's experiment, shared by the two processes: the TSC, read as
/// <c>examples/latency</c> reads it (<c>lfence; rdtsc; lfence</c>). .NET has no managed RDTSC, and
/// neither Rpal.Runtime nor librpal exports one, so this writes those 15 bytes of x86-64 code
/// into an executable page and calls them through an unmanaged function pointer without a GC
/// transition. Where that is impossible (not x86-64, or no executable mapping), the clock is
/// <see cref="Stopwatch"/> (CLOCK_MONOTONIC, nanoseconds) and <see cref="Name"/> says so.
/// </summary>
internal static unsafe class SeedClock
{
    // lfence; rdtsc; lfence; shl rdx, 32; or rax, rdx; ret
    private static readonly byte[] s_code =
    [
        0x0F, 0xAE, 0xE8,
        0x0F, 0x31,
        0x0F, 0xAE, 0xE8,
        0x48, 0xC1, 0xE2, 0x20,
        0x48, 0x09, 0xD0,
        0xC3,
    ];

    private static readonly delegate* unmanaged[SuppressGCTransition]<long> s_rdtsc = CreateRdtsc();

    /// <summary>True when <see cref="Read"/> reads the TSC (cycles), false when it reads Stopwatch (ns).</summary>
    public static bool IsTsc => s_rdtsc != null;

    /// <summary>What <see cref="Read"/> returns, for the output.</summary>
    public static string Name => IsTsc ? "TSC cycles (rdtsc, lfence-fenced)" : "nanoseconds (Stopwatch: no rdtsc available)";

    /// <summary>The unit of <see cref="Read"/>, for the seed's lines.</summary>
    public static string Unit => IsTsc ? "cycles" : "ns";

    /// <summary>Reads the clock.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static long Read() => s_rdtsc != null ? s_rdtsc() : Stopwatch.GetTimestamp();

    /// <summary>Clock units per nanosecond, measured against Stopwatch over 100 ms (1 for Stopwatch itself).</summary>
    public static double MeasureGHz()
    {
        if (!IsTsc)
        {
            return 1;
        }

        long w0 = Stopwatch.GetTimestamp(), t0 = Read();
        Thread.Sleep(100);
        long w1 = Stopwatch.GetTimestamp(), t1 = Read();
        return (t1 - t0) / Stopwatch.GetElapsedTime(w0, w1).TotalNanoseconds;
    }

    /// <summary>Whether /proc/cpuinfo lists constant_tsc and nonstop_tsc (one clock across cores and processes).</summary>
    public static bool IsInvariant()
    {
        try
        {
            string? flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            return flags is not null && flags.Contains(" constant_tsc", StringComparison.Ordinal) && flags.Contains(" nonstop_tsc", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static delegate* unmanaged[SuppressGCTransition]<long> CreateRdtsc()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return null;
        }

        void* page = mmap(null, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED)
        {
            return null;
        }

        s_code.CopyTo(new Span<byte>(page, s_code.Length));
        if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0)
        {
            _ = munmap(page, 4096);
            return null;
        }

        // The page lives as long as the process.
        return (delegate* unmanaged[SuppressGCTransition]<long>)page;
    }
}
