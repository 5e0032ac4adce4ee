using Rpal.Rpc.Generated;
using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>A service added to an <see cref="RpalServer"/>: its descriptor, dispatcher, settings and listener.</summary>
internal sealed class HostedService(RpalServiceDescriptor descriptor, RpalServiceDispatcher dispatcher, RpalServiceOptions? options)
{
    /// <summary>The service's own settings, or null for the server's.</summary>
    public RpalServiceOptions? Options { get; } = options;

    public RpalServiceDescriptor Descriptor { get; } = descriptor;

    public RpalServiceDispatcher Dispatcher { get; } = dispatcher;

    public RpalServiceListener? Listener { get; set; }

    /// <summary>The error of the last registration check (a negative errno), 0 when it was fine: RegistrationLost is logged once per new error.</summary>
    public int LastRegistrationError { get; set; }
}
