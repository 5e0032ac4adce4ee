namespace Rpal.Rpc.Generated;

/// <summary>
/// A request or response body that the generated code writes into, and reads from, the arena
/// (the shared memory of the sending process). Implemented by structs that the Rpal source
/// generator emits, one per method and direction; not meant to be implemented by hand. A
/// request with a <see cref="ReadOnlySpan{T}"/> parameter is a ref struct: it lives on the stack
/// and is only used before the call that takes it returns.
/// </summary>
/// <typeparam name="TSelf">The implementing struct (a ref struct for a request holding a span).</typeparam>
public interface IRpalPayload<TSelf>
    where TSelf : struct, IRpalPayload<TSelf>, allows ref struct
{
    /// <summary>The exact number of bytes <see cref="Write"/> writes.</summary>
    int GetSize();

    /// <summary>Writes the body; exactly <see cref="GetSize"/> bytes.</summary>
    void Write(ref RpalWriter writer);

    /// <summary>
    /// Reads a body written by <see cref="Write"/> in another process. The input is untrusted:
    /// a malformed body throws <see cref="RpalDecodeException"/>. The result may hold spans of the
    /// reader's data but not a reference to the reader itself (<c>scoped</c>), so a caller can
    /// return what it read from a reader it declared locally.
    /// </summary>
    static abstract TSelf Read(scoped ref RpalReader reader);
}

/// <summary>A response body that carries one value of the method's result type.</summary>
/// <typeparam name="TSelf">The implementing struct.</typeparam>
/// <typeparam name="TValue">The method's result type (<see cref="RpalVoid"/> for none).</typeparam>
public interface IRpalResponse<TSelf, TValue> : IRpalPayload<TSelf>
    where TSelf : struct, IRpalResponse<TSelf, TValue>
{
    /// <summary>The result value.</summary>
    TValue Value { get; }

    /// <summary>Wraps a result value.</summary>
    static abstract TSelf FromValue(TValue value);
}
