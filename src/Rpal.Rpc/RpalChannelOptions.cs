namespace Rpal.Rpc;

/// <summary>Options of an <see cref="RpalChannel"/>.</summary>
public sealed class RpalChannelOptions
{
    /// <summary>
    /// The deadline of every call made through the channel unless the call has its own
    /// (see <see cref="RpalChannel.CreateClient{TService}(Grpc.Core.CallOptions)"/>). Default: none.
    /// </summary>
    public TimeSpan? DefaultTimeout { get; set; }

    /// <summary>
    /// How long a waiter spins before it parks. The budget is the engine's and so process-wide:
    /// setting it here sets it for every wait in the process (the last server or channel that
    /// sets it wins). Default: the engine's (50 µs, or the RPAL_SPIN_NS environment variable).
    /// <see cref="TimeSpan.Zero"/> always parks.
    /// </summary>
    public TimeSpan? SpinBudget { get; set; }
}
