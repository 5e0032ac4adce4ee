using System.Diagnostics;

namespace Rpal.Runtime;

/// <summary>
/// The engine's spin policy (native/librpal rpal.c: spin_for, spin_for_probing, spin_learn) for a
/// wait that runs in managed code, such as a stream reader's wait for its next element: spin for
/// the engine's <see cref="RpalEngine.SpinBudget"/> only when the last wait of this kind ended
/// within it, else park at once; every 32nd wait that did not spin spins all the same, so a peer
/// that became fast is found again. Process-wide, at most half of the processors spin at once
/// (<see cref="TryEnterSpinner"/>), counting the engine's own spins started from .NET (an
/// awaited call's rpal_call_submit_spin). One per kind of wait (per stream, say), kept in a
/// field, never copied; a heuristic, so its fields are plain and raced without harm.
/// </summary>
internal struct SpinPolicy
{
    private static readonly int s_maxSpinning = Math.Max(1, Environment.ProcessorCount / 2);
    private static int s_spinning;
    private long _expectTicks;
    private uint _skipped;

    /// <summary>The engine's spin budget, in <see cref="Stopwatch"/> ticks.</summary>
    public static long BudgetTicks => RpalEngine.SpinBudget.Ticks * Stopwatch.Frequency / TimeSpan.TicksPerSecond;

    /// <summary>
    /// Whether this thread may spin now (at most half of the processors spin at once), for a
    /// spin whose length is decided elsewhere (the engine's policy). True must be followed by
    /// <see cref="ExitSpinner"/>.
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

    /// <summary>
    /// Whether a wait of this kind that starts now should spin, and until when
    /// (<see cref="Stopwatch"/> ticks); true must be followed by <see cref="ExitSpinner"/>.
    /// Tell the wait's length to <see cref="Learn"/> when it ends, spun or not.
    /// </summary>
    public bool TryBeginSpin(long start, out long spinEnd)
    {
        spinEnd = start;
        long budget = BudgetTicks;
        bool spin = budget > 0 && (_expectTicks <= budget || (++_skipped & 31) == 0);
        if (!spin || !TryEnterSpinner())
        {
            return false;
        }

        spinEnd = start + budget;
        return true;
    }

    /// <summary>A wait of this kind took <paramref name="waitedTicks"/>: the next one expects as much.</summary>
    public void Learn(long waitedTicks) => _expectTicks = waitedTicks;
}
