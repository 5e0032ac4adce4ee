using System.Runtime.InteropServices;

namespace Rpal.Bench;

/// <summary>
/// The POSIX clocks the paced scenario needs and neither .NET nor Tmds.LibC offers: a sleep until
/// an absolute time (<c>clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)</c>) and the process's CPU
/// time in nanoseconds (<c>CLOCK_PROCESS_CPUTIME_ID</c>). <see cref="System.Diagnostics.Process.TotalProcessorTime"/>
/// reads <c>/proc/PID/stat</c> on Linux, in clock ticks (10 ms), far too coarse for a few thousand
/// calls of a microsecond each.
/// </summary>
internal static partial class Clocks
{
    private const int ClockMonotonic = 1;
    private const int ClockProcessCpuTime = 2;
    private const int TimerAbsoluteTime = 1;
    private const int PrSetTimerSlack = 29;
    private const int Eintr = 4;

    [ThreadStatic]
    private static bool s_slackSet;

    /// <summary>CLOCK_MONOTONIC now, in ns (the clock <see cref="SleepUntil"/> sleeps on).</summary>
    public static long MonotonicNs() => Read(ClockMonotonic);

    /// <summary>
    /// The CPU time, user and system, of every thread of this process so far, in ns. The kernel
    /// brings the calling thread's share up to date; a thread of the process running on another
    /// core at that moment counts up to its last tick or context switch.
    /// </summary>
    public static long ProcessCpuNs() => Read(ClockProcessCpuTime);

    /// <summary>
    /// Sleeps until CLOCK_MONOTONIC reaches <paramref name="monotonicNs"/> (at once if it has): an
    /// absolute time, so a wake-up by a signal sleeps again for what is left, and the time the
    /// caller takes between two sleeps is not added to the next one. The first sleep of a thread
    /// sets its timer slack to 1 ns (PR_SET_TIMERSLACK): with the default 50 µs, the kernel may
    /// wake a sleeper up to 50 µs late, to batch wake-ups.
    /// </summary>
    public static void SleepUntil(long monotonicNs)
    {
        if (!s_slackSet)
        {
            // a thread that cannot have it sleeps with the default slack: slept_us shows it
            _ = prctl(PrSetTimerSlack, 1, 0, 0, 0);
            s_slackSet = true;
        }

        var until = new Timespec { Seconds = monotonicNs / 1_000_000_000, Nanoseconds = monotonicNs % 1_000_000_000 };
        int rc;
        while ((rc = clock_nanosleep(ClockMonotonic, TimerAbsoluteTime, in until, IntPtr.Zero)) == Eintr)
        {
        }

        if (rc != 0)
        {
            throw new InvalidOperationException($"clock_nanosleep failed: error {rc}");
        }
    }

    private static long Read(int clock)
    {
        if (clock_gettime(clock, out Timespec now) != 0)
        {
            throw new InvalidOperationException($"clock_gettime({clock}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return now.Seconds * 1_000_000_000 + now.Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int clock_gettime(int clockId, out Timespec time);

    // Returns the error number itself, not -1 and errno.
    [LibraryImport("libc")]
    private static partial int clock_nanosleep(int clockId, int flags, in Timespec request, IntPtr remain);

    [LibraryImport("libc")]
    private static partial int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);
}
