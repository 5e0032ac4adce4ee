namespace Rpal.Rpc;

/// <summary>
/// What a call does when its channel already has <see cref="RpalChannelOptions.MaxConcurrentCalls"/>
/// calls in flight.
/// </summary>
public enum RpalCallLimitBehavior
{
    /// <summary>
    /// Wait until a call in flight ends, bounded by the call's deadline (then DeadlineExceeded)
    /// and its cancellation token (then Cancelled). Waiters are not served in order.
    /// </summary>
    Wait,

    /// <summary>Fail at once with ResourceExhausted.</summary>
    Fail,
}
