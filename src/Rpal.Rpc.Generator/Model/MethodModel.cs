namespace Rpal.Rpc.Generator.Model;

/// <summary>One service method.</summary>
/// <param name="Name">The method's name, escaped with '@' where it is a keyword.</param>
/// <param name="MetadataName">The method's name as the wire and <c>RpalMethod.Name</c> see it.</param>
/// <param name="Key">A name unique in the service (overloads get a suffix) for the generated types and members.</param>
/// <param name="Signature">What the id hashes: <c>Name(T1,T2)</c>, see <see cref="Parsing.SignatureFormatter"/>.</param>
/// <param name="Id">The wire id, FNV-1a of <see cref="Signature"/>.</param>
/// <param name="DeclaringInterface">The interface that declares it (the service or one it inherits), fully qualified.</param>
/// <param name="Parameters">The parameters that travel in the request, in order (not the input stream).</param>
/// <param name="InputStream">The <c>IAsyncEnumerable&lt;T&gt;</c> parameter the caller streams, if any.</param>
/// <param name="CancellationTokenName">The trailing cancellation token parameter, if any.</param>
/// <param name="ReturnKind">The result's shape.</param>
/// <param name="Result">The result value, or the element of a result stream; null for void, Task and ValueTask.</param>
internal sealed record MethodModel(
    string Name,
    string MetadataName,
    string Key,
    string Signature,
    uint Id,
    string DeclaringInterface,
    EquatableArray<ParameterModel> Parameters,
    StreamParameterModel? InputStream,
    string? CancellationTokenName,
    ReturnKind ReturnKind,
    WireValue? Result);
