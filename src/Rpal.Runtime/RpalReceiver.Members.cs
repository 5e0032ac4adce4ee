using System.Runtime.InteropServices;

namespace Rpal.Runtime;

/// <summary>The connections and listeners in the receiver's set.</summary>
public sealed partial class RpalReceiver
{
    // Guards the table and the free list. The receiver's thread reads the table without it
    // (Lookup), checking the generation and Active flag of what it finds.
    private readonly Lock _registrationLock = new();
    private readonly Stack<int> _freeSlots = new();
    private ReceiverRegistration?[] _registrations = new ReceiverRegistration?[16];
    private int _slotsUsed;
    private uint _generation;

    /// <summary>
    /// Adds a connection: from now on the handler's <see cref="IRpalReceiverHandler.OnEvents"/>
    /// is called on this receiver's thread with its RPAL events and <paramref name="token"/>.
    /// The connection stays in the set until it is disposed (it is then released on this
    /// thread) or the receiver stops. Callable from any thread. Throws
    /// <see cref="InvalidOperationException"/> when the connection is already in a receiver,
    /// <see cref="ObjectDisposedException"/> when it or the receiver is disposed,
    /// <see cref="RpalException"/> (EBUSY) when it is in another <see cref="RpalEpoll"/> set.
    /// </summary>
    public void Add(RpalConnection connection, ulong token) => Add(connection, token, RpalEpollEvents.RpalAll);

    /// <summary>
    /// Adds a connection watched for <paramref name="events"/> only (a combination of
    /// <see cref="RpalEpollEvents.RpalIn"/>, <see cref="RpalEpollEvents.RpalReply"/> and
    /// <see cref="RpalEpollEvents.RpalHangup"/>): a receiver that only completes submitted calls
    /// passes RpalReply | RpalHangup, and the engine then wakes it only while such calls are in
    /// flight. Otherwise as <see cref="Add(RpalConnection, ulong)"/>.
    /// </summary>
    public void Add(RpalConnection connection, ulong token, uint events)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if ((events & RpalEpollEvents.RpalAll) == 0 || (events & ~RpalEpollEvents.RpalAll) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(events), events, "RpalIn, RpalReply and RpalHangup only, at least one.");
        }

        if (!connection.Handle.TryAcquire(out _))
        {
            ThrowHelper.ThrowDisposed(connection);
        }

        // The reference just taken belongs to the registration until Detach.
        ReceiverRegistration registration;
        try
        {
            registration = Register(
                connection.Handle, connection.RawFd, connection, null, null, token, events);
        }
        catch
        {
            connection.Handle.DangerousRelease();
            throw;
        }

        // Dispose raced with Add: it closes the handle, then reads Registration; we published
        // Registration, then read IsDisposed. One of us sees the other.
        if (connection.IsDisposed)
        {
            OnMemberDisposed(registration);
        }

        AfterAdd();
    }

    /// <summary>
    /// Changes the RPAL events a connection in this receiver's set is watched for (as in
    /// <see cref="Add(RpalConnection, ulong, uint)"/>): a completion thread that starts to receive
    /// one-way messages on a connection adds <see cref="RpalEpollEvents.RpalIn"/>. Callable from any
    /// thread. Throws <see cref="InvalidOperationException"/> when the connection is not in this
    /// receiver, <see cref="RpalException"/> when the engine refuses.
    /// </summary>
    public void SetEvents(RpalConnection connection, uint events)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if ((events & RpalEpollEvents.RpalAll) == 0 || (events & ~RpalEpollEvents.RpalAll) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(events), events, "RpalIn, RpalReply and RpalHangup only, at least one.");
        }

        lock (_registrationLock)
        {
            if (connection.Registration is not { Active: true } registration || registration.Receiver != this)
            {
                throw new InvalidOperationException($"{connection} is not in receiver {Name}.");
            }

            registration.Events = events;
            // a hang-up already reported stays masked (see MaskHangup)
            uint effective = registration.HangupReported ? events & ~RpalEpollEvents.RpalHangup : events;
            _epoll.Modify(connection, (effective != 0 ? effective : RpalEpollEvents.RpalReply) | RpalEpollEvents.RpalOut, registration.Data);
        }

        AfterAdd(); // a parked waiter counts the connection's new events only when it parks again
    }

    /// <summary>
    /// Adds a listener: <paramref name="onAcceptReady"/> is called on this receiver's thread
    /// while clients wait (it should call <see cref="RpalServiceListener.TryAccept"/> until it
    /// returns false, typically adding each connection to a receiver). The listener stays in the
    /// set until it is disposed (it is then unregistered on this thread) or the receiver stops.
    /// Throws as <see cref="Add(RpalConnection, ulong)"/>.
    /// </summary>
    public void Add(RpalServiceListener listener, Action<RpalServiceListener> onAcceptReady)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(onAcceptReady);
        if (!listener.Handle.TryAcquire(out _))
        {
            ThrowHelper.ThrowDisposed(listener);
        }

        ReceiverRegistration registration;
        try
        {
            registration = Register(
                listener.Handle, listener.RawFd, null, listener, onAcceptReady, 0, 0);
        }
        catch
        {
            listener.Handle.DangerousRelease();
            throw;
        }

        if (listener.IsDisposed)
        {
            OnMemberDisposed(registration);
        }

        AfterAdd();
    }

    /// <summary>A member was disposed: detach it on the receiver's thread (at once when on it).</summary>
    internal void OnMemberDisposed(ReceiverRegistration registration)
    {
        if (IsCurrentThread)
        {
            Detach(registration);
        }
        else
        {
            PostCore(s_detach, registration);
        }
    }

    private static readonly Action<object?> s_detach = static r => ((ReceiverRegistration)r!).Receiver.Detach((ReceiverRegistration)r!);

    private ReceiverRegistration Register(
        SafeHandle handle,
        int fd,
        RpalConnection? connection,
        RpalServiceListener? listener,
        Action<RpalServiceListener>? onAcceptReady,
        ulong token,
        uint events)
    {
        lock (_registrationLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _state) != StateRunning, this);
            int index = _freeSlots.Count > 0 ? _freeSlots.Pop() : _slotsUsed++;
            if (index == _registrations.Length)
            {
                Array.Resize(ref _registrations, index * 2); // publishes a new array; Lookup rereads it
            }

            var registration = new ReceiverRegistration(
                this, index, ++_generation, handle, fd, connection, listener, onAcceptReady, token, events);

            if (!registration.LinkMember())
            {
                _freeSlots.Push(index);
                throw new InvalidOperationException($"{(object?)connection ?? listener} is already in a receiver.");
            }

            try
            {
                // Under the lock, so the final sweep of a stopping receiver cannot miss it.
                // Connections: their RPAL events; listeners: readable.
                _epoll.Add(fd, connection is null ? RpalEpollEvents.In : events | RpalEpollEvents.RpalOut, registration.Data);
            }
            catch
            {
                registration.ClearMember();
                _freeSlots.Push(index);
                throw;
            }

            registration.Active = true;
            Volatile.Write(ref _registrations[index], registration);
            return registration;
        }
    }

    // The engine counts a parked waiter on the connections that were in its set when it
    // parked; a connection added meanwhile would not ring the doorbell for its first message.
    // Wake the receiver so that it parks again, counting the newcomer.
    private void AfterAdd()
    {
        if (!IsCurrentThread)
        {
            Wake();
        }
    }

    private ReceiverRegistration? Lookup(ulong data)
    {
        ReceiverRegistration?[] table = Volatile.Read(ref _registrations);
        uint index = (uint)data;
        if (index >= (uint)table.Length)
        {
            return null;
        }

        ReceiverRegistration? registration = Volatile.Read(ref table[index]);
        return registration is not null && registration.Generation == (uint)(data >> 32) && registration.Active
            ? registration
            : null;
    }

    // On the receiver's thread, or after it stopped (nobody waits on the set then): out of the
    // set, then the registration's reference goes, which releases a disposed member now.
    private void Detach(ReceiverRegistration registration)
    {
        lock (_registrationLock)
        {
            if (!registration.Active)
            {
                return;
            }

            registration.Active = false;
            _registrations[registration.Index] = null;
            _freeSlots.Push(registration.Index);
        }

        _epoll.TryRemove(registration.Fd);
        registration.ClearMember();
        registration.Handle.DangerousRelease();
    }

    private void DetachAll()
    {
        List<ReceiverRegistration> active;
        lock (_registrationLock)
        {
            active = [.. _registrations.OfType<ReceiverRegistration>().Where(r => r.Active)];
        }

        foreach (ReceiverRegistration registration in active)
        {
            Detach(registration);
        }
    }
}
