namespace Rpal.Rpc.Generator.Model;

/// <summary>The shape of a method's result, which decides how the client calls and the dispatcher completes.</summary>
internal enum ReturnKind
{
    /// <summary><c>void</c>.</summary>
    Void,

    /// <summary>A value, returned synchronously.</summary>
    Value,

    /// <summary><c>Task</c>.</summary>
    Task,

    /// <summary><c>Task&lt;T&gt;</c>.</summary>
    TaskOfValue,

    /// <summary><c>ValueTask</c>.</summary>
    ValueTask,

    /// <summary><c>ValueTask&lt;T&gt;</c>.</summary>
    ValueTaskOfValue,

    /// <summary><c>IAsyncEnumerable&lt;T&gt;</c>: a stream of results (server streaming, or duplex with an input stream).</summary>
    Stream,
}
