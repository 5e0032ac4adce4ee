namespace Rpal.Rpc.Generated;

/// <summary>
/// One method of an Rpal service as it travels on the wire. Generated code holds one static
/// instance per interface method.
/// </summary>
public sealed class RpalMethod
{
    /// <summary>Creates a method description.</summary>
    /// <param name="serviceName">The service's registered name.</param>
    /// <param name="name">The method's name in the interface.</param>
    /// <param name="id">
    /// The method's wire id: FNV-1a (32 bits) of its signature, see <see cref="ComputeId"/>; never 0.
    /// </param>
    public RpalMethod(string serviceName, string name, uint id)
        : this(serviceName, name, id, Grpc.Core.MethodType.Unary)
    {
    }

    /// <summary>Creates a method description of the given call shape.</summary>
    /// <param name="serviceName">The service's registered name.</param>
    /// <param name="name">The method's name in the interface.</param>
    /// <param name="id">The method's wire id, see <see cref="ComputeId"/>; never 0.</param>
    /// <param name="type">
    /// The call shape: <see cref="Grpc.Core.MethodType.Unary"/>, or a streaming shape for a method
    /// that takes or returns an <see cref="IAsyncEnumerable{T}"/>.
    /// </param>
    public RpalMethod(string serviceName, string name, uint id, Grpc.Core.MethodType type)
    {
        ArgumentNullException.ThrowIfNull(serviceName);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfZero(id);
        ServiceName = serviceName;
        Name = name;
        Id = id;
        Type = type;
        FullName = "/" + serviceName + "/" + name;
    }

    /// <summary>The service's registered name.</summary>
    public string ServiceName { get; }

    /// <summary>The method's name.</summary>
    public string Name { get; }

    /// <summary>The method's wire id.</summary>
    public uint Id { get; }

    /// <summary>The call shape (unary, server, client or bidirectional streaming).</summary>
    public Grpc.Core.MethodType Type { get; }

    /// <summary>gRPC-style full name, <c>/service/method</c>.</summary>
    public string FullName { get; }

    /// <summary>
    /// The wire id of a method: FNV-1a (32 bits) over the UTF-8 bytes of its signature, written
    /// as <c>Name(T1,T2)</c> with fully qualified parameter type names (the cancellation token
    /// left out); 0 becomes 1. Both the generator and tools use this definition.
    /// </summary>
    public static uint ComputeId(string signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        uint hash = 2166136261;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(signature))
        {
            hash = (hash ^ b) * 16777619;
        }

        return hash == 0 ? 1 : hash;
    }

    /// <inheritdoc/>
    public override string ToString() => FullName;
}
