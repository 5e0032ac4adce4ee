namespace Rpal.Rpc.Generator.Model;

/// <summary>One value in a body: a parameter or a result.</summary>
/// <param name="TypeName">
/// The C# type as the generated code declares it, fully qualified with <c>global::</c>. A
/// reference type keeps its nullable annotation; an oblivious one (nullable disabled where the
/// interface is declared) is written as nullable, since nothing promises it is not null.
/// </param>
/// <param name="Kind">Which writer and reader methods carry it.</param>
/// <param name="ElementTypeName">The element type of an <see cref="WireKind.UnmanagedArray"/>, else null.</param>
/// <param name="RejectsNull">
/// A reference type declared non-nullable: a null read from the peer is a malformed body.
/// </param>
internal sealed record WireValue(string TypeName, WireKind Kind, string? ElementTypeName, bool RejectsNull);
