namespace Rpal.Rpc.Hosting;

/// <summary>
/// Options of a client registered with
/// <c>services.AddRpalClient&lt;TService&gt;(serviceName)</c>: the options of each channel it
/// connects, and how it reconnects. Named options, by service name; bound from the configuration
/// section <c>Rpal:Clients:SERVICE</c> (docs/hosting.md).
/// </summary>
public sealed class RpalClientOptions
{
    /// <summary>
    /// The options of every <see cref="RpalChannel"/> the client connects (the first, and each
    /// one after the server restarted).
    /// </summary>
    public RpalChannelOptions Channel { get; } = new();

    /// <summary>
    /// How long the client waits after a failed connect before it tries again; each further
    /// failure doubles it, up to <see cref="MaxReconnectDelay"/>, and a successful connect resets
    /// it. A call made while the client waits fails at once with Unavailable, without trying to
    /// connect: a server that is down meets one connect per delay, not one per call.
    /// Default 100 ms; <see cref="TimeSpan.Zero"/> tries on every call.
    /// </summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between two connects (see <see cref="ReconnectDelay"/>). Default 5 s.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);
}
