using System.Diagnostics;
using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>
/// The short spin of a stream's reader that awaits its next element on its own thread before it
/// leaves the wait to the completion thread, and its back-off: one miss in a row is forgiven, two
/// make the reader skip the spin for its next 2 waits, then 4, ... 512 after further misses in a
/// row, so a slow server costs little spinning. At most half of the processors spin at once,
/// process-wide, counting awaited calls, whose spin the engine's policy decides
/// (<see cref="TryEnterSpinner"/>). One per stream; a heuristic, so its fields are plain and raced
/// without harm.
/// </summary>
internal struct AwaitSpin
{
    private static readonly int s_maxSpinning = Math.Max(1, Environment.ProcessorCount / 2);
    private static int s_spinning;
    private int _skip, _misses;

    /// <summary>The engine's spin budget, in <see cref="Stopwatch"/> ticks.</summary>
    public static long BudgetTicks => RpalEngine.SpinBudget.Ticks * Stopwatch.Frequency / TimeSpan.TicksPerSecond;

    /// <summary>Whether to spin for this wait; true must be followed by <see cref="End"/>.</summary>
    public bool TryBegin()
    {
        if (_skip > 0)
        {
            _skip--;
            return false;
        }

        return TryEnterSpinner();
    }

    /// <summary>
    /// Whether this thread may spin now (at most half of the processors spin at once), without
    /// the back-off: for the engine's waits, whose spin policy decides itself whether to spin
    /// (rpal_call_submit_spin with the default budget). True must be followed by <see cref="ExitSpinner"/>.
    /// </summary>
    public static bool TryEnterSpinner()
    {
        if (Interlocked.Increment(ref s_spinning) > s_maxSpinning)
        {
            Interlocked.Decrement(ref s_spinning);
            return false;
        }

        return true;
    }

    /// <summary>The end of a spin <see cref="TryEnterSpinner"/> allowed.</summary>
    public static void ExitSpinner() => Interlocked.Decrement(ref s_spinning);

    /// <summary>The spin ended: <paramref name="answered"/> when what it waited for came.</summary>
    public void End(bool answered)
    {
        ExitSpinner();
        if (answered)
        {
            _misses = 0;
            return;
        }

        _misses = Math.Min(_misses + 1, 10);
        _skip = _misses == 1 ? 0 : 1 << (_misses - 1);
    }
}
