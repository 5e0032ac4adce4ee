using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Rpal.Runtime;

/// <summary>
/// A message (<c>struct rpal_msg</c>, 64 bytes): four inline words and, optionally, a payload in
/// the sender's arena. On send, <see cref="Data"/> is 0 or a buffer from
/// <see cref="RpalEngine.Alloc"/> (with <see cref="Length"/> at most its capacity), whose
/// ownership passes to the engine. On receive, <see cref="Data"/> points into the peer's arena
/// (read-only, bounds-checked) and stays valid until the message is answered
/// (<see cref="RpalConnection.Reply(ulong, in RpalMessage)"/>) or released (<see cref="RpalConnection.Release"/>).
/// <see cref="RpalOutgoingMessage"/> and <see cref="RpalReceivedMessage"/> hold a message with
/// its payload's ownership, and free or release it when disposed.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct RpalMessage
{
    /// <summary>Number of inline words a message carries (<c>RPAL_INLINE_WORDS</c>).</summary>
    public const int InlineWords = 4;

    /// <summary>Inline word 0.</summary>
    public ulong Word0;

    /// <summary>Inline word 1.</summary>
    public ulong Word1;

    /// <summary>Inline word 2.</summary>
    public ulong Word2;

    /// <summary>Inline word 3.</summary>
    public ulong Word3;

    /// <summary>The payload's address, or 0 for none.</summary>
    public nint Data;

    /// <summary>The payload's length in bytes (0 when <see cref="Data"/> is 0).</summary>
    public ulong Length;

    /// <summary>Set on receive: the call id to answer, or 0 for a one-way message. Ignored on send.</summary>
    public ulong Id;

    /// <summary>Application status, carried as is.</summary>
    public int Status;

    /// <summary>
    /// On send: 0, or <see cref="DontWait"/> where the operation says so. 0 on receive.
    /// </summary>
    public uint Flags;

    /// <summary>
    /// <see cref="Flags"/> bit (<c>RPAL_MSG_DONTWAIT</c>): a send or submit that finds the ring
    /// full or every call slot taken fails with -EAGAIN at once instead of waiting; the message
    /// and its payload are still the caller's, and the connection reports
    /// <see cref="RpalEpollEvents.RpalOut"/> once there is room.
    /// </summary>
    public const uint DontWait = 1u << 0;

    /// <summary>The four inline words as a span over this message.</summary>
    [UnscopedRef]
    public Span<ulong> Words => MemoryMarshal.CreateSpan(ref Word0, InlineWords);

    /// <summary>True for a received call (one that must be answered), false for a one-way message.</summary>
    public readonly bool IsCall => Id != 0;

    /// <summary>
    /// The payload as bytes (empty when there is none). For a received message it is the peer's
    /// read-only memory: valid until the message is answered or released.
    /// </summary>
    public readonly unsafe ReadOnlySpan<byte> Payload =>
        Data == 0 ? default : new ReadOnlySpan<byte>((void*)Data, checked((int)Length));
}
