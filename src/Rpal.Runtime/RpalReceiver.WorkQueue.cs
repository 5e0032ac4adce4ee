using System.Collections.Concurrent;
using Rpal.Runtime.Interop;

namespace Rpal.Runtime;

/// <summary>Posted work and the receiver's wake-up.</summary>
public sealed partial class RpalReceiver
{
    private const ulong WakeData = ulong.MaxValue;

    private readonly ConcurrentQueue<WorkItem> _work = new();

    // An eventfd in the receiver's set: written to wake a receiver that may be parked.
    private readonly EventFdHandle _wakeFd;

    // 1 while the receiver is in (or about to enter) its wait. The receiver sets it with a full
    // fence before its last look at the queue; a poster enqueues, fences, and if it reads 1 and
    // is the one to swap it to 0, writes the eventfd. So a busy receiver costs posters no system
    // call, and a parked one is woken exactly once.
    private int _parked;

    // Eventfd writes so far, for tests.
    private long _wakeCount;

    /// <summary>Times the receiver was woken through its eventfd (tests check that busy receivers are not).</summary>
    internal long WakeCount => Interlocked.Read(ref _wakeCount);

    /// <summary>True while the receiver is in, or about to enter, its wait.</summary>
    internal bool IsParked => Volatile.Read(ref _parked) != 0;

    /// <summary>
    /// Queues <paramref name="callback"/>(<paramref name="state"/>) to run on the receiver's
    /// thread, in order with other posts from the same thread; callable from any thread,
    /// including the receiver's own (it then runs after the current callback). An exception it
    /// throws is reported through <see cref="UnhandledException"/>. After the receiver stopped,
    /// the work runs on the thread pool instead.
    /// </summary>
    public void Post(Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        PostCore(callback, state);
    }

    /// <summary>Queues a callback: an <see cref="Action{T}"/> of object or a <see cref="SendOrPostCallback"/>.</summary>
    internal void PostCore(Delegate callback, object? state)
    {
        _work.Enqueue(new WorkItem(callback, state));
        Interlocked.MemoryBarrier();
        int runState = Volatile.Read(ref _state);
        if (runState != StateRunning)
        {
            // Draining: the receiver's thread takes it. Stopped: the thread pool does.
            if (runState == StateStopped)
            {
                DrainOrphans();
            }

            return;
        }

        if (Volatile.Read(ref _parked) != 0 && Interlocked.Exchange(ref _parked, 0) != 0)
        {
            Wake();
        }
    }

    private static EventFdHandle CreateWakeFd()
    {
        int fd = LibC.EventFd(0, LibC.EfdCloexec | LibC.EfdNonblock);
        if (fd < 0)
        {
            ThrowHelper.ThrowRpal(-System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), "eventfd");
        }

        return new EventFdHandle(fd);
    }

    private unsafe void Wake()
    {
        ulong one = 1;
        Interlocked.Increment(ref _wakeCount);
        try
        {
            LibC.Write(_wakeFd, &one, sizeof(ulong)); // EAGAIN only if the counter is saturated: awake anyway
        }
        catch (ObjectDisposedException)
        {
            // The receiver has stopped and closed it.
        }
    }

    private unsafe void DrainWakeFd()
    {
        ulong value;
        LibC.Read(_wakeFd, &value, sizeof(ulong));
    }

    /// <summary>Runs up to <paramref name="max"/> posted items; false when the loop was taken over meanwhile.</summary>
    private bool RunWork(int max, int generation)
    {
        for (int i = 0; i < max; i++)
        {
            if (!BeginCallback(generation))
            {
                return false;
            }

            if (!_work.TryDequeue(out WorkItem item))
            {
                _inCallback = false;
                break;
            }

            try
            {
                item.Invoke();
            }
#pragma warning disable CA1031 // Reported; the receiver must go on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Report(ex);
            }

            if (!EndCallback(generation))
            {
                return false;
            }
        }

        return true;
    }

    // Work posted after the receiver stopped: the thread pool runs it (never inline, which could
    // re-enter the poster). The stopped receiver and posters may race to take an item: each
    // item is taken once.
    private void DrainOrphans()
    {
        while (_work.TryDequeue(out WorkItem item))
        {
            ThreadPool.UnsafeQueueUserWorkItem(
                static state =>
                {
                    try
                    {
                        state.Item.Invoke();
                    }
#pragma warning disable CA1031 // An exception on a pool thread would end the process.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        state.Receiver.Report(ex);
                    }
                },
                (Item: item, Receiver: this),
                preferLocal: false);
        }
    }

    private readonly struct WorkItem(Delegate callback, object? state)
    {
        internal void Invoke()
        {
            if (callback is Action<object?> action)
            {
                action(state);
            }
            else
            {
                ((SendOrPostCallback)callback)(state);
            }
        }
    }
}
