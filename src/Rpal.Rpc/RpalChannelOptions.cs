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
    /// How long a caller spins for its reply before it parks. Default: the engine's (50 µs, or
    /// the RPAL_SPIN_NS environment variable). <see cref="TimeSpan.Zero"/> always parks.
    /// </summary>
    public TimeSpan? SpinBudget { get; set; }
}
