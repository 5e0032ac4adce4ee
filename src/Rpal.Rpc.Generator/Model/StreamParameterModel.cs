namespace Rpal.Rpc.Generator.Model;

/// <summary>
/// The <c>IAsyncEnumerable&lt;T&gt;</c> parameter of a client-streaming or duplex method: its
/// elements follow the request one by one; it is not part of the request.
/// </summary>
/// <param name="Name">The parameter's name in the interface, escaped with '@' where it is a keyword.</param>
/// <param name="Position">
/// Where it stands among the method's parameters: the number of request parameters
/// (<see cref="MethodModel.Parameters"/>) before it.
/// </param>
/// <param name="Element">The type of its elements and how each travels.</param>
internal sealed record StreamParameterModel(string Name, int Position, WireValue Element);
