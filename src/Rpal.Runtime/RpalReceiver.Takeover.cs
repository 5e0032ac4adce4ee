using System.Collections.Concurrent;
using System.Diagnostics;

namespace Rpal.Runtime;

/// <summary>
/// A receiver is its loop, not its thread: when a callback blocks the thread running the loop
/// (a handler that sleeps, waits on a task, or makes a synchronous call whose answer needs this
/// same receiver), another thread takes the loop over and the receiver goes on serving; the
/// blocked thread leaves the loop when its callback returns and waits a while as a spare for
/// the next takeover. In the spirit of the seed's fiber-backed receivers, which switch away from
/// a blocked handler without losing the receiver.
/// </summary>
/// <remarks>
/// <para>
/// Ownership: <see cref="_loopGeneration"/> names the thread that owns the loop. A takeover bumps it
/// (under <see cref="_takeoverLock"/>) and starts (or wakes) another thread with the new value;
/// the old thread sees the change when its callback returns (<see cref="EndCallback"/>) and
/// leaves without touching the set or the queue. So at any time one thread waits on the set and
/// takes messages for the receiver; callbacks that were blocked when it took over finish on
/// their own threads beside it.
/// </para>
/// <para>
/// When: at once when a callback announces that it is about to block (<see cref="HandOff"/>,
/// which Rpal's synchronous calls do), and otherwise when the process's watchdog sees a callback
/// running for longer than <see cref="BlockedCallbackThreshold"/> on a thread that is blocked
/// (asleep in the kernel and using no CPU: <see cref="OwnerBlocked"/>). A callback that computes, or that the
/// scheduler preempted on a loaded machine, keeps the loop: taking it would run the receiver's
/// non-blocking handlers in parallel, which the receiver promises not to do. At most
/// <see cref="MaxBlockedThreads"/> threads of one receiver may be blocked at once; past that the
/// receiver waits as before, and the event is reported.
/// </para>
/// </remarks>
public sealed partial class RpalReceiver
{
    private const int SpareIdleMs = 10_000;

    /// <summary>A watchdog's look at a thread that took longer than this tells nothing (<see cref="OwnerBlocked"/>).</summary>
    private static readonly TimeSpan s_slowLook = TimeSpan.FromMilliseconds(1);

    private static readonly ConcurrentDictionary<RpalReceiver, byte> s_live = new();
    private static long s_takeovers;

    private readonly Lock _takeoverLock = new();
    private readonly ManualResetEventSlim _finished = new();
    private readonly SemaphoreSlim _spareWake = new(0);

    // The loop's owner: bumped by TakeOver (under _takeoverLock), read by the owner after each
    // callback. The owner's managed thread id, written by the owner as it enters the loop.
    private int _loopGeneration;
    private int _ownerThreadId;
    private int _ownerTid; // the owner's kernel thread id, for the watchdog's look at its state

    // Callbacks the owner began, and whether one runs now: written by the owner (plain stores,
    // no clock on the hot path; TakeOver clears _inCallback for the new owner), read by the
    // watchdog, which takes over when it sees one callback running at two looks a threshold
    // apart (_watchedSeq, _watchedAt: the watchdog's own).
    private long _callbackSeq;
    private volatile bool _inCallback;
    private long _watchedSeq;
    private long _watchedAt;
    private long _watchedCpuNs = -1; // the owner's on-CPU time at the watchdog's last look at this callback

    // Threads whose callbacks blocked when the loop was taken from them, not returned yet, and
    // threads waiting as spares (both under _takeoverLock).
    private int _blocked;
    private int _spares;
    private int _spareGeneration; // the generation a woken spare runs with (under _takeoverLock)
    private long _receiverTakeovers;
    private bool _limitReported;

    /// <summary>
    /// How long a callback may run before another thread takes the loop over (process-wide;
    /// default 50 ms). Callbacks that announce a blocking wait (<see cref="HandOff"/>) do not
    /// wait for it.
    /// </summary>
    public static TimeSpan BlockedCallbackThreshold { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The most threads of one receiver blocked in callbacks at once (default 64); past it the
    /// receiver waits for one of them, as if no takeover existed.
    /// </summary>
    public static int MaxBlockedThreads { get; set; } = 64;

    /// <summary>Takeovers in this process so far, all receivers together (a metric).</summary>
    public static long TotalTakeovers => Interlocked.Read(ref s_takeovers);

    /// <summary>Takeovers of this receiver so far.</summary>
    public long Takeovers => Interlocked.Read(ref _receiverTakeovers);

    /// <summary>
    /// Called by code about to block the current thread (a synchronous call, a wait for a
    /// result): when the thread runs a receiver's callback, the receiver goes on on another
    /// thread at once, so that what the wait needs (a callback from the peer being called, the
    /// continuation of the awaited task) can still run on it. Cheap and harmless elsewhere.
    /// </summary>
    public static void HandOff()
    {
        if (s_current is { } receiver && receiver.IsCurrentThread)
        {
            receiver.TakeOver(Volatile.Read(ref receiver._loopGeneration));
        }
    }

    private void StartLoopThread(int generation)
    {
        var thread = new Thread(ThreadMain) { IsBackground = true, Name = generation == 0 ? Name : $"{Name}+" };
        thread.UnsafeStart(generation);
    }

    private void ThreadMain(object? state)
    {
        int generation = (int)state!;
        s_current = this;
        System.Threading.SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
        while (true)
        {
            bool owner;
            try
            {
                owner = Loop(generation);
            }
            catch when (Volatile.Read(ref _loopGeneration) == generation)
            {
                Shutdown(); // as if the loop had ended: the set is closed, posts go to the pool
                throw;
            }

            if (owner)
            {
                Shutdown();
                return;
            }

            // taken over, and the callback that blocked has returned: wait for the next takeover
            if (!WaitAsSpare(out generation))
            {
                System.Threading.SynchronizationContext.SetSynchronizationContext(null);
                s_current = null;
                return;
            }
        }
    }

    private bool WaitAsSpare(out int generation)
    {
        lock (_takeoverLock)
        {
            _blocked--;
            _spares++;
        }

        while (true)
        {
            bool woken = !_stopRequested && _spareWake.Wait(SpareIdleMs);
            lock (_takeoverLock)
            {
                if (woken && _spareGeneration != 0)
                {
                    generation = _spareGeneration; // TakeOver counted us out of _spares
                    _spareGeneration = 0;
                    return true;
                }

                if (!woken || _stopRequested)
                {
                    _spares--;
                    generation = 0;
                    return false;
                }
            }
        }
    }

    private void ReleaseSpares()
    {
        lock (_takeoverLock)
        {
            if (_spares > 0)
            {
                _spareWake.Release(_spares);
            }
        }
    }

    /// <summary>
    /// The owner is about to run a callback: false when the loop was taken over meanwhile (a
    /// takeover while this thread waited on the set, which the watchdog may do by a narrow race).
    /// </summary>
    private bool BeginCallback(int generation)
    {
        if (Volatile.Read(ref _loopGeneration) != generation)
        {
            return false;
        }

        Volatile.Write(ref _callbackSeq, _callbackSeq + 1);
        _inCallback = true;
        return true;
    }

    /// <summary>The callback returned: false when the loop was taken over meanwhile.</summary>
    private bool EndCallback(int generation)
    {
        if (Volatile.Read(ref _loopGeneration) != generation)
        {
            return false;
        }

        _inCallback = false;
        return true;
    }

    /// <summary>The watchdog's look: true when one callback has been running since its look a threshold ago.</summary>
    private bool BlockedSince(long now, long threshold)
    {
        long seq = Volatile.Read(ref _callbackSeq);
        if (!_inCallback || seq != _watchedSeq)
        {
            _watchedSeq = seq;
            _watchedAt = now;
            _watchedCpuNs = -1;
            return false;
        }

        return now - _watchedAt >= threshold;
    }

    /// <summary>
    /// Whether the loop's thread is blocked: not running or waiting for a CPU (state R in
    /// /proc/self/task/TID/stat) now, and no CPU time used (its on-CPU nanoseconds in
    /// /proc/self/task/TID/schedstat) since the watchdog's previous look at this callback. Both,
    /// because a thread that computes is also stopped for a moment now and then: at one look it
    /// may seem blocked, but it used CPU since the last. A look that a garbage collection
    /// overlapped counts as not blocked (the collection suspends every managed thread, the
    /// computing owner included, and this look may have seen it so), as does a look that took
    /// longer than a millisecond (another suspension of the runtime, or this thread
    /// preempted meanwhile); the next look decides.
    /// Read only for a callback past the threshold, so a blocked callback is taken over one look
    /// (half a threshold) later; when the files cannot be read the callback counts as blocked.
    /// </summary>
    private bool OwnerBlocked()
    {
        int tid = Volatile.Read(ref _ownerTid);
        int collections = GC.CollectionCount(0);
        long started = Stopwatch.GetTimestamp();
        string stat;
        long cpuNs;
        try
        {
            stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
            cpuNs = CpuNs(tid, stat);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }

        // A collection that began after the count was read ended before this thread came back from
        // the reads (it is suspended too while one runs): the count shows it. Other suspensions of
        // the runtime (tiered compilation's, a debugger's) count nothing, but hold this thread as
        // it comes back, so the reads seem slow: a look that took long is no look.
        if (GC.CollectionCount(0) != collections || Stopwatch.GetElapsedTime(started) > s_slowLook)
        {
            _watchedCpuNs = -1;
            return false;
        }

        // after the command name (which may hold anything): "S ppid pgrp ..."
        int end = stat.LastIndexOf(')');
        if (end < 0 || end + 2 >= stat.Length || cpuNs < 0)
        {
            return true;
        }

        long before = _watchedCpuNs;
        _watchedCpuNs = cpuNs;
        return stat[end + 2] != 'R' && before >= 0 && cpuNs == before;
    }

    /// <summary>
    /// The thread's CPU time in ns: its schedstat's first field (exact), or where the kernel has
    /// none, utime + stime from <paramref name="stat"/> (clock ticks: a computing thread that got
    /// less than a tick between two looks seems idle there, the garbage-collection check and the
    /// state keep that rare). -1 when neither can be read.
    /// </summary>
    private static long CpuNs(int tid, string stat)
    {
        try
        {
            string schedstat = File.ReadAllText($"/proc/self/task/{tid}/schedstat");
            int space = schedstat.IndexOf(' ');
            return space > 0 && long.TryParse(schedstat.AsSpan(0, space), out long ns) ? ns : -1;
        }
        catch (FileNotFoundException)
        {
            int end = stat.LastIndexOf(')');
            string[] fields = end < 0 || end + 2 >= stat.Length ? [] : stat[(end + 2)..].Split(' ');
            return fields.Length >= 13 && long.TryParse(fields[11], out long utime) && long.TryParse(fields[12], out long stime)
                ? (utime + stime) * 10_000_000
                : -1;
        }
    }

    /// <summary>Gives the loop to another thread, if <paramref name="generation"/> still owns it.</summary>
    private void TakeOver(int generation)
    {
        int next;
        bool spare;
        lock (_takeoverLock)
        {
            if (_loopGeneration != generation || Volatile.Read(ref _state) != StateRunning)
            {
                return;
            }

            if (_blocked >= MaxBlockedThreads)
            {
                if (!_limitReported)
                {
                    _limitReported = true;
                    RpalEngine.WriteLog(RpalEngine.LogLevelWarning, $"receiver {Name}: {_blocked} threads are blocked in callbacks (RpalReceiver.MaxBlockedThreads); it waits for one of them");
                }

                return;
            }

            next = generation + 1;
            if (next == 0)
            {
                next = 1; // 0 is the first thread's, and "no spare generation"
            }

            _loopGeneration = next;
            _inCallback = false; // the new owner starts between callbacks
            _blocked++;
            spare = _spares > 0 && _spareGeneration == 0;
            if (spare)
            {
                _spares--;
                _spareGeneration = next;
                _spareWake.Release();
            }
        }

        Interlocked.Increment(ref _receiverTakeovers);
        Interlocked.Increment(ref s_takeovers);
        if (!spare)
        {
            StartLoopThread(next);
        }
    }

    /// <summary>The process's watchdog: takes over receivers whose callbacks block too long.</summary>
    private static class Watchdog
    {
        private static int s_started;

        public static void EnsureStarted()
        {
            if (Interlocked.Exchange(ref s_started, 1) == 0)
            {
                new Thread(Run) { IsBackground = true, Name = "rpal-receiver-watchdog" }.UnsafeStart();
            }
        }

        private static void Run()
        {
            while (true)
            {
                long threshold = Math.Max(2, (long)BlockedCallbackThreshold.TotalMilliseconds);
                Thread.Sleep((int)Math.Clamp(threshold / 2, 1, 1000)); // a timer, not a wait for an event
                long now = Environment.TickCount64;
                foreach (RpalReceiver receiver in s_live.Keys)
                {
                    // read the generation first: a callback seen blocked belongs to it or a later owner
                    int generation = Volatile.Read(ref receiver._loopGeneration);
                    if (receiver.BlockedSince(now, threshold) && receiver.OwnerBlocked())
                    {
                        receiver.TakeOver(generation);
                    }
                }
            }
        }
    }
}
