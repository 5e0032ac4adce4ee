namespace Rpal.Rpc.Streaming;

/// <summary>What a stream made of a control message from its peer (<see cref="StreamCore.Accept"/>).</summary>
internal enum StreamInput
{
    /// <summary>Taken: an element queued (or released, the stream being closed), the end of the peer's elements, or credit.</summary>
    Accepted,

    /// <summary>An element larger than this end's receive limit: released unread; the call fails with ResourceExhausted.</summary>
    TooLarge,

    /// <summary>The peer broke flow control (more than a window unconsumed, or a malformed window): the call fails.</summary>
    ProtocolBroken,
}
