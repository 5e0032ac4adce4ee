using System.Collections.Concurrent;
using Rpal.Runtime.Interop;

namespace Rpal.Runtime;

/// <summary>
/// A dedicated receiver thread: it waits on an <see cref="RpalEpoll"/> set holding the
/// connections and listeners added to it, calls the <see cref="IRpalReceiverHandler"/> for each
/// connection event, and runs work posted to it (<see cref="Post"/>, and its
/// <see cref="RpalReceiverSynchronizationContext"/>, so that <c>await</c>s in handlers continue
/// on this thread).
/// </summary>
/// <remarks>
/// Partial files: this one holds the thread and its loop; RpalReceiver.WorkQueue.cs the posted
/// work and the wake-up; RpalReceiver.Members.cs the connections and listeners in the set;
/// RpalReceiver.Takeover.cs how another thread takes the loop over from a blocked callback.
/// The loop waits at most 100 ms at a time, so <see cref="Stop"/> is prompt even if a wake-up
/// is lost. Exceptions thrown by the handler or by posted work are reported through
/// <see cref="UnhandledException"/> (or, with no subscriber, <see cref="RpalEngine.Log"/>) and
/// the loop goes on.
/// </remarks>
public sealed partial class RpalReceiver : IDisposable
{
    private const int WaitTimeoutMs = 100;
    private const int MaxEvents = 64;
    private const int MaxWorkPerTurn = 1024;

    private const int StateRunning = 0;
    private const int StateDraining = 1; // the loop ended; the thread runs what was queued
    private const int StateStopped = 2;  // the thread is done; posts go to the thread pool

    private static int s_count;

    [ThreadStatic]
    private static RpalReceiver? s_current;

    private readonly IRpalReceiverHandler _handler;
    private readonly RpalEpoll _epoll;

    // Running -> Draining -> Stopped, on the receiver's thread when its loop ends. Draining is
    // written under _registrationLock, so that Add either registers before the final sweep or
    // sees that the receiver is stopping.
    private int _state;

    // Set by Stop from any thread; read by the loop at each turn.
    private volatile bool _stopRequested;

    /// <summary>Creates the receiver and starts its thread.</summary>
    /// <param name="handler">Called on the receiver's thread for each connection event.</param>
    /// <param name="name">The thread's name; default "rpal-receiver-N".</param>
    public RpalReceiver(IRpalReceiverHandler handler, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handler = handler;
        Name = name ?? $"rpal-receiver-{Interlocked.Increment(ref s_count)}";
        SynchronizationContext = new RpalReceiverSynchronizationContext(this);
        _epoll = RpalEpoll.Create();
        try
        {
            _wakeFd = CreateWakeFd();
            _epoll.Add(_wakeFd.Fd, RpalEpollEvents.In, WakeData);
        }
        catch
        {
            _wakeFd?.Dispose();
            _epoll.Dispose();
            throw;
        }

        StartLoopThread(0);
        s_live.TryAdd(this, 0);
        Watchdog.EnsureStarted();
    }

    /// <summary>
    /// Called on the receiver's thread with an exception thrown by the handler, by posted work or
    /// by the loop itself; the receiver goes on. With no subscriber the exception is written to
    /// <see cref="RpalEngine.Log"/> as an error.
    /// </summary>
    public event EventHandler<UnhandledExceptionEventArgs>? UnhandledException;

    /// <summary>
    /// The receiver whose loop runs on the current thread, or null: also null on a thread whose
    /// receiver went on on another thread while a callback blocked it (see
    /// <see cref="BlockedCallbackThreshold"/>).
    /// </summary>
    public static RpalReceiver? Current => s_current is { } r && r.IsCurrentThread ? r : null;

    /// <summary>The name of the receiver's thread.</summary>
    public string Name { get; }

    /// <summary>The managed thread id of the thread that runs the receiver's loop now.</summary>
    public int ManagedThreadId => Volatile.Read(ref _ownerThreadId);

    /// <summary>True when called on the thread that runs the receiver's loop now.</summary>
    public bool IsCurrentThread => Environment.CurrentManagedThreadId == Volatile.Read(ref _ownerThreadId);

    /// <summary>True until <see cref="Stop"/> or <see cref="Dispose"/> is called.</summary>
    public bool IsRunning => !_stopRequested && Volatile.Read(ref _state) == StateRunning;

    /// <summary>The context that runs work on this receiver; <see cref="SynchronizationContext.Current"/> on its thread.</summary>
    public RpalReceiverSynchronizationContext SynchronizationContext { get; }

    /// <summary>
    /// Ends the loop and waits up to <paramref name="timeout"/> for the thread to finish. On its
    /// way out the thread runs the work already queued, takes every connection and listener out
    /// of its set (disposed ones are released then; the others stay open and may be added to
    /// another receiver) and closes the set. Work posted while it does so still runs on it;
    /// work posted once it has finished runs on the thread pool.
    /// Returns true when the thread has finished; false on timeout, or when called on the
    /// receiver's own thread (which then finishes after the current callback returns). A
    /// callback that blocks does not hold the stop up beyond <see cref="BlockedCallbackThreshold"/>:
    /// another thread takes the loop over and finishes it; the blocked thread leaves when its
    /// callback returns.
    /// </summary>
    public bool Stop(TimeSpan timeout)
    {
        _stopRequested = true;
        Wake();
        ReleaseSpares();
        if (IsCurrentThread)
        {
            return false;
        }

        return _finished.Wait(timeout);
    }

    /// <summary>Stops the receiver and waits for its thread (see <see cref="Stop"/>).</summary>
    public void Dispose() => Stop(Timeout.InfiniteTimeSpan);

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>
    /// Runs the loop while this thread owns it (<paramref name="generation"/> is current): true
    /// when the loop ended because the receiver stops, false when another thread took it over
    /// while a callback on this one blocked (this thread then leaves the loop as soon as the
    /// callback returns, without touching the set).
    /// </summary>
    private bool Loop(int generation)
    {
        Volatile.Write(ref _ownerThreadId, Environment.CurrentManagedThreadId);
        Volatile.Write(ref _ownerTid, Interop.LibC.GetTid());
        var events = new RpalEpollEvent[MaxEvents];
        while (!_stopRequested)
        {
            if (!RunWork(MaxWorkPerTurn, generation))
            {
                return false;
            }

            // Announce the wait before the last look at the queue: a poster that enqueues after
            // this look sees _parked and wakes us (Dekker: both sides fence, then read).
            int timeout = WaitTimeoutMs;
            Interlocked.Exchange(ref _parked, 1);
            if (!_work.IsEmpty || _stopRequested)
            {
                Volatile.Write(ref _parked, 0);
                timeout = 0; // still look at the set, so a stream of posts cannot starve it
            }

            int n = _epoll.Wait(events, timeout);
            Volatile.Write(ref _parked, 0);
            for (int i = 0; i < n; i++)
            {
                if (!Dispatch(events[i], generation))
                {
                    return false;
                }
            }

            if (n < 0 && n != -RpalErrno.EINTR)
            {
                Report(new RpalException(n, $"rpal_epoll_wait on receiver {Name}"));
                // Not expected; do not turn a persistent failure into a busy loop.
                Thread.Sleep(10);
            }
        }

        return Volatile.Read(ref _loopGeneration) == generation;
    }

    /// <summary>Handles one event; false when the loop was taken over meanwhile.</summary>
    private bool Dispatch(RpalEpollEvent e, int generation)
    {
        if (!BeginCallback(generation))
        {
            return false;
        }

        DispatchCore(in e);
        return EndCallback(generation);
    }

    private void DispatchCore(in RpalEpollEvent e)
    {
        if (e.Data == WakeData)
        {
            DrainWakeFd();
            return;
        }

        ReceiverRegistration? registration = Lookup(e.Data);
        if (registration is null)
        {
            return; // detached earlier in this batch
        }

        try
        {
            if (registration.Connection is { } connection)
            {
                if ((e.Events & (RpalEpollEvents.RpalOut | RpalEpollEvents.RpalHangup)) != 0)
                {
                    connection.OnRoom(); // senders waiting for room try again (or see the end)
                }

                if ((e.Events & ~RpalEpollEvents.RpalOut) == 0)
                {
                    return;
                }

                _handler.OnEvents(connection, registration.Token, e.Events & ~RpalEpollEvents.RpalOut);
                if ((e.Events & RpalEpollEvents.RpalHangup) != 0)
                {
                    MaskHangup(registration);
                }
            }
            else
            {
                registration.OnAcceptReady!(registration.Listener!);
            }
        }
#pragma warning disable CA1031 // Reported; the receiver must go on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Report(ex);
        }
    }

    // The engine reports a failed connection's hang-up for as long as it stays in the set. Report
    // it once: a handler that keeps the connection a while (to answer calls in flight, or until
    // its owner disposes it) must not turn the receiver into a busy loop. Completions of the
    // failed calls (RpalReply) are still reported.
    private void MaskHangup(ReceiverRegistration registration)
    {
        if (registration.Active && !registration.HangupReported)
        {
            registration.HangupReported = true;
            uint rest = registration.Events & ~RpalEpollEvents.RpalHangup;
            int rc = _epoll.TryModify(registration.Fd, (rest != 0 ? rest : RpalEpollEvents.RpalReply) | RpalEpollEvents.RpalOut, registration.Data);
            if (rc < 0)
            {
                Report(new RpalException(rc, $"rpal_epoll_ctl(EPOLL_CTL_MOD) on receiver {Name}"));
            }
        }
    }

    private void Shutdown()
    {
        lock (_registrationLock)
        {
            Volatile.Write(ref _state, StateDraining);
        }

        s_live.TryRemove(this, out _);

        // What was queued before the loop ended runs here, on the receiver's thread, as
        // promised (and what that work posts, too). Then posters hand their work to the thread
        // pool; whatever they queued before they could see Stopped goes there from here.
        Interlocked.MemoryBarrier();
        int generation = Volatile.Read(ref _loopGeneration);
        RunWork(int.MaxValue, generation);
        DetachAll();
        RunWork(int.MaxValue, generation); // detaching may have posted
        Interlocked.Exchange(ref _state, StateStopped);
        DrainOrphans();
        _epoll.Dispose();
        _wakeFd.Dispose();
        System.Threading.SynchronizationContext.SetSynchronizationContext(null);
        s_current = null;
        _finished.Set();
    }

    private void Report(Exception exception)
    {
        EventHandler<UnhandledExceptionEventArgs>? handler = UnhandledException;
        if (handler is not null)
        {
            try
            {
                handler(this, new UnhandledExceptionEventArgs(exception, isTerminating: false));
                return;
            }
#pragma warning disable CA1031 // A failing subscriber falls back to the log.
            catch (Exception e)
#pragma warning restore CA1031
            {
                exception = new AggregateException(exception, e);
            }
        }

        RpalEngine.WriteLog(RpalEngine.LogLevelError, $"receiver {Name}: unhandled exception: {exception}");
    }
}
