namespace Rpal.Rpc.Generator.Model;

/// <summary>Everything the emitter needs for one [RpalService] interface, as plain data.</summary>
/// <param name="HintName">The generated file's name.</param>
/// <param name="Namespace">The interface's namespace, or null for the global namespace.</param>
/// <param name="ContainerName">The file-local static class holding the generated types, free in that namespace.</param>
/// <param name="InterfaceName">The interface, fully qualified with <c>global::</c>.</param>
/// <param name="ServiceName">The registered name from the attribute.</param>
/// <param name="Methods">The service methods: the interface's own, then the inherited ones.</param>
internal sealed record ServiceModel(
    string HintName,
    string? Namespace,
    string ContainerName,
    string InterfaceName,
    string ServiceName,
    EquatableArray<MethodModel> Methods);
