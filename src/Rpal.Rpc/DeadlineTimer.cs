using System.Diagnostics;

namespace Rpal.Rpc;

/// <summary>
/// The deadlines of the process's client calls, fired by one dedicated thread (<c>rpal-deadlines</c>)
/// instead of .NET timers, whose callbacks need a free thread-pool thread: a call's deadline
/// fires on time even while the pool is starved. Entries live in a binary heap that knows each
/// entry's place, so a call that ends before its deadline (the common case) removes its entry
/// at once and the heap holds only the deadlines still ahead.
/// </summary>
/// <remarks>
/// <see cref="Entry.Fire"/> runs on the timer thread, one entry at a time, and must not block
/// or run user code: it ends a call and hands its continuation to <see cref="CallContinuations"/>.
/// </remarks>
internal static class DeadlineTimer
{
    private static readonly object s_lock = new(); // a monitor: the thread waits on it
    private static Entry?[] s_heap = new Entry?[64];
    private static int s_count;
    private static Entry? s_firing; // the entry whose Fire runs now (under s_lock)
    private static bool s_waiters; // someone waits in Cancel for s_firing to finish (under s_lock)
    private static Thread? s_thread;

    /// <summary>Something that fires at a time.</summary>
    internal abstract class Entry
    {
        /// <summary>When it fires: a <see cref="Stopwatch"/> timestamp.</summary>
        internal long Due { get; set; }

        /// <summary>Its place in the heap; -1 when not scheduled.</summary>
        internal int Index { get; set; } = -1;

        /// <summary>The time came: runs on the timer thread, must not block.</summary>
        protected internal abstract void Fire();
    }

    /// <summary>Fires <paramref name="entry"/> at <paramref name="due"/> (a <see cref="Stopwatch"/> timestamp). The entry must not be scheduled.</summary>
    public static void Schedule(Entry entry, long due)
    {
        lock (s_lock)
        {
            Debug.Assert(entry.Index < 0, "scheduled twice");
            s_thread ??= Start();
            if (s_count == s_heap.Length)
            {
                Array.Resize(ref s_heap, s_count * 2);
            }

            entry.Due = due;
            entry.Index = s_count;
            s_heap[s_count++] = entry;
            Up(entry.Index);
            if (entry.Index == 0)
            {
                Monitor.PulseAll(s_lock); // the earliest deadline moved closer: the thread sleeps less
            }
        }
    }

    /// <summary>
    /// Unschedules <paramref name="entry"/>. True when it had not fired; false when it fired or
    /// was never scheduled, and then its <see cref="Entry.Fire"/> has returned (unless called from
    /// that very Fire), so the entry can be reused at once.
    /// </summary>
    public static bool Cancel(Entry entry)
    {
        lock (s_lock)
        {
            if (entry.Index >= 0)
            {
                RemoveAt(entry.Index);
                return true;
            }

            while (ReferenceEquals(s_firing, entry) && Thread.CurrentThread != s_thread)
            {
                s_waiters = true;
                Monitor.Wait(s_lock);
            }

            return false;
        }
    }

    private static Thread Start()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "rpal-deadlines" };
        thread.UnsafeStart();
        return thread;
    }

    private static void Run()
    {
        lock (s_lock)
        {
            while (true)
            {
                if (s_count == 0)
                {
                    Monitor.Wait(s_lock);
                    continue;
                }

                Entry first = s_heap[0]!;
                long now = Stopwatch.GetTimestamp();
                if (first.Due > now)
                {
                    // Whole milliseconds, rounded up: a deadline never fires early.
                    long ms = (long)Math.Ceiling((first.Due - now) * 1000.0 / Stopwatch.Frequency);
                    Monitor.Wait(s_lock, (int)Math.Min(ms, int.MaxValue - 1));
                    continue;
                }

                RemoveAt(0);
                s_firing = first;
                Monitor.Exit(s_lock);
                try
                {
                    first.Fire();
                }
                catch (Exception e)
                {
                    // Fire ends a call and catches what it can; nothing may end this thread.
                    Debug.Fail($"a deadline's callback threw: {e}");
                }
                finally
                {
                    Monitor.Enter(s_lock);
                    s_firing = null;
                    if (s_waiters)
                    {
                        s_waiters = false;
                        Monitor.PulseAll(s_lock);
                    }
                }
            }
        }
    }

    private static void RemoveAt(int index)
    {
        Entry removed = s_heap[index]!;
        removed.Index = -1;
        int last = --s_count;
        if (index != last)
        {
            Entry moved = s_heap[last]!;
            s_heap[index] = moved;
            moved.Index = index;
            s_heap[last] = null;
            Down(index);
            Up(moved.Index);
        }
        else
        {
            s_heap[last] = null;
        }
    }

    private static void Up(int index)
    {
        Entry entry = s_heap[index]!;
        while (index > 0)
        {
            int parent = (index - 1) / 2;
            Entry above = s_heap[parent]!;
            if (above.Due <= entry.Due)
            {
                break;
            }

            s_heap[index] = above;
            above.Index = index;
            index = parent;
        }

        s_heap[index] = entry;
        entry.Index = index;
    }

    private static void Down(int index)
    {
        Entry entry = s_heap[index]!;
        while (true)
        {
            int child = (2 * index) + 1;
            if (child >= s_count)
            {
                break;
            }

            if (child + 1 < s_count && s_heap[child + 1]!.Due < s_heap[child]!.Due)
            {
                child++;
            }

            Entry below = s_heap[child]!;
            if (entry.Due <= below.Due)
            {
                break;
            }

            s_heap[index] = below;
            below.Index = index;
            index = child;
        }

        s_heap[index] = entry;
        entry.Index = index;
    }
}
