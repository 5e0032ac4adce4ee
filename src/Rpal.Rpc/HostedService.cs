using Rpal.Rpc.Generated;
using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>A service added to an <see cref="RpalServer"/>: its descriptor, dispatcher and listener.</summary>
internal sealed class HostedService(RpalServiceDescriptor descriptor, RpalServiceDispatcher dispatcher)
{
    public RpalServiceDescriptor Descriptor { get; } = descriptor;

    public RpalServiceDispatcher Dispatcher { get; } = dispatcher;

    public RpalServiceListener? Listener { get; set; }
}
