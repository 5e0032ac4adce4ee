namespace Rpal.Runtime;

/// <summary>
/// What an <see cref="RpalReceiver"/> calls, on its thread, for the connections added to it.
/// </summary>
public interface IRpalReceiverHandler
{
    /// <summary>
    /// Called on the receiver's thread with the RPAL events of <paramref name="connection"/>
    /// (<paramref name="token"/> as given to <see cref="RpalReceiver.Add(RpalConnection, ulong)"/>):
    /// <see cref="RpalEpollEvents.RpalIn"/>: call <see cref="RpalConnection.Receive"/> until it
    /// returns -EAGAIN; <see cref="RpalEpollEvents.RpalReply"/>: call
    /// <see cref="RpalConnection.Complete"/> until -EAGAIN; <see cref="RpalEpollEvents.RpalHangup"/>:
    /// the connection failed (the peer died or released it): dispose it, now or once done with
    /// it. <see cref="RpalEpollEvents.RpalIn"/> and <see cref="RpalEpollEvents.RpalReply"/> are
    /// level-triggered: what is left is reported again at once. <see cref="RpalEpollEvents.RpalHangup"/>
    /// is reported once; a failed connection that is not disposed stays in the set, quiet except
    /// for the completions of its failed calls. An exception thrown here is reported through
    /// <see cref="RpalReceiver.UnhandledException"/> and the receiver goes on (the events, unless
    /// handled, come again).
    /// </summary>
    void OnEvents(RpalConnection connection, ulong token, uint events);
}
