namespace Rpal.Rpc.Generated;

/// <summary>
/// What the source generator knows about one [RpalService] interface: its name and methods.
/// </summary>
public abstract class RpalServiceDescriptor
{
    /// <summary>Creates the descriptor.</summary>
    protected RpalServiceDescriptor(string serviceName, IReadOnlyList<RpalMethod> methods)
    {
        ArgumentNullException.ThrowIfNull(serviceName);
        ArgumentNullException.ThrowIfNull(methods);
        ServiceName = serviceName;
        Methods = methods;
    }

    /// <summary>The service's registered name (<see cref="RpalServiceAttribute.Name"/>).</summary>
    public string ServiceName { get; }

    /// <summary>The service's methods.</summary>
    public IReadOnlyList<RpalMethod> Methods { get; }

    /// <summary>The interface type.</summary>
    public abstract Type ServiceType { get; }
}

/// <summary>
/// The generated factory of clients and dispatchers for the interface <typeparamref name="TService"/>.
/// </summary>
/// <typeparam name="TService">The [RpalService] interface.</typeparam>
public abstract class RpalServiceDescriptor<TService> : RpalServiceDescriptor
    where TService : class
{
    /// <summary>Creates the descriptor.</summary>
    protected RpalServiceDescriptor(string serviceName, IReadOnlyList<RpalMethod> methods)
        : base(serviceName, methods)
    {
    }

    /// <inheritdoc/>
    public sealed override Type ServiceType => typeof(TService);

    /// <summary>Creates a client stub that sends every call through <paramref name="invoker"/>.</summary>
    public abstract TService CreateClient(RpalClientInvoker invoker);

    /// <summary>Creates the dispatcher that serves calls with <paramref name="implementation"/>.</summary>
    public abstract RpalServiceDispatcher CreateDispatcher(TService implementation);
}
