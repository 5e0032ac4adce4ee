namespace Rpal.Rpc.Generator.Model;

/// <summary>A parameter that travels in the request (the cancellation token and an input stream do not).</summary>
/// <param name="Name">The parameter's name in the interface, escaped with '@' where it is a keyword.</param>
/// <param name="FieldName">Its field in the request struct (the name, unless it clashes with a member).</param>
/// <param name="Value">Its type and how it travels.</param>
internal sealed record ParameterModel(string Name, string FieldName, WireValue Value);
