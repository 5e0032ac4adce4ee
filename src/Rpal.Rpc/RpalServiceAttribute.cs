namespace Rpal.Rpc;

/// <summary>
/// Marks an interface as an Rpal service: the Rpal source generator emits a client stub that
/// calls another process through <see cref="RpalChannel"/> and a dispatcher that serves the
/// interface from an <see cref="RpalServer"/>.
/// </summary>
/// <remarks>
/// Supported methods return <c>void</c>, a supported type, <see cref="Task"/>,
/// <see cref="Task{TResult}"/>, <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/>, and
/// may end with a <see cref="CancellationToken"/> parameter. Supported parameter and result types
/// are unmanaged primitives, enums and unmanaged structs, <see cref="string"/>, <c>byte[]</c>,
/// <see cref="ReadOnlyMemory{T}"/> of <see cref="byte"/>, arrays of unmanaged types and
/// Google.Protobuf messages; a parameter may also be a <see cref="ReadOnlySpan{T}"/> of
/// <see cref="byte"/>. Anything else is a compile-time error (RPAL1xxx).
/// </remarks>
[AttributeUsage(AttributeTargets.Interface, AllowMultiple = false, Inherited = false)]
public sealed class RpalServiceAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="name">
    /// The name the service is registered and found under, for example <c>"demo.calculator"</c>:
    /// 1 to 64 characters from <c>[A-Za-z0-9._-]</c>, not starting with a dot.
    /// </param>
    public RpalServiceAttribute(string name) => Name = name;

    /// <summary>The name the service is registered and found under.</summary>
    public string Name { get; }
}
