namespace Rpal.Rpc.Generator.Model;

/// <summary>How a parameter or result travels in a body (which RpalWriter/RpalReader methods carry it).</summary>
internal enum WireKind
{
    /// <summary>Primitives, enums, unmanaged structs: <c>Write&lt;T&gt;</c> / <c>Read&lt;T&gt;</c>, their bytes as is.</summary>
    Unmanaged,

    /// <summary><c>string</c>: <c>Write(string)</c> / <c>ReadString</c>.</summary>
    String,

    /// <summary><c>byte[]</c>: <c>Write(byte[])</c> / <c>ReadByteArray</c>.</summary>
    ByteArray,

    /// <summary><c>ReadOnlyMemory&lt;byte&gt;</c>: <c>Write(ReadOnlyMemory&lt;byte&gt;)</c> / <c>ReadMemory</c>.</summary>
    Memory,

    /// <summary>
    /// <c>ReadOnlySpan&lt;byte&gt;</c>, parameters only: <c>Write(ReadOnlySpan&lt;byte&gt;)</c> /
    /// <c>ReadSpan</c>, the same encoding as <see cref="Memory"/>. The request holding it is a ref struct.
    /// </summary>
    Span,

    /// <summary><c>T[]</c> of an unmanaged <c>T</c>: <c>WriteArray&lt;T&gt;</c> / <c>ReadArray&lt;T&gt;</c>.</summary>
    UnmanagedArray,

    /// <summary>A Google.Protobuf message: <c>Write(IMessage)</c> / <c>ReadMessage(T.Parser)</c>.</summary>
    Message,
}
