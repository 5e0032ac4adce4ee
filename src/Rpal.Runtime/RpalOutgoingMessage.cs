using System.Diagnostics.CodeAnalysis;

namespace Rpal.Runtime;

/// <summary>
/// A message to send that owns its payload (an arena buffer of this process) until the engine
/// takes it. The rule of rpal.h, said once: a payload is this process's until a send function
/// takes it; <see cref="Dispose"/> frees a payload still owned (a message that will not be sent),
/// and the send overloads that take this type by <c>ref</c> (<see cref="RpalConnection.Send(ref RpalOutgoingMessage)"/>,
/// <see cref="RpalConnection.Reply(ulong, ref RpalOutgoingMessage)"/>, ...) forget the payload
/// once the engine took it, so that a later <see cref="Dispose"/> does nothing.
/// </summary>
/// <remarks>
/// <para>
/// The engine takes the payload with every result but the ones <see cref="IsTaken"/> names: -EAGAIN
/// (<see cref="RpalMessage.DontWait"/> and a full ring: try again later), -EINVAL (a bad message,
/// refused) and -EBADF (the connection was disposed: the engine never saw it). After those the
/// message still owns its payload, to send again or to dispose. After any other result, success
/// or the connection's error (the engine then freed it), the payload is no longer this
/// process's to free.
/// </para>
/// <para>
/// A struct, so that owning costs no allocation: ownership follows the variable. A copy owns the
/// same payload, so hand the message on by <c>ref</c> (or move it, and do not dispose the
/// original). <see cref="Dispose"/> is idempotent on one variable. It is not a <c>using</c>
/// resource where it is sent: a <c>using</c> variable is read-only, and a send must be able to
/// clear it; dispose it in a <c>finally</c> or a <c>catch</c> instead.
/// </para>
/// </remarks>
public struct RpalOutgoingMessage : IDisposable
{
    private RpalMessage _message;

    /// <summary>
    /// Takes ownership of <paramref name="message"/>'s payload, which must be 0 or an unsent
    /// buffer of this process's arena (from <see cref="RpalEngine.Alloc"/>).
    /// </summary>
    public RpalOutgoingMessage(in RpalMessage message) => _message = message;

    /// <summary>
    /// A message with the words of <paramref name="header"/> and a fresh payload of
    /// <paramref name="length"/> bytes (more than 0), to write through <see cref="Payload"/>.
    /// Throws <see cref="RpalException"/> as <see cref="RpalEngine.Alloc"/> does.
    /// </summary>
    public static RpalOutgoingMessage Allocate(in RpalMessage header, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        RpalBuffer buffer = RpalEngine.Alloc((nuint)length);
        return new RpalOutgoingMessage(WithPayload(in header, buffer, length));
    }

    /// <summary>As <see cref="Allocate"/>, but false (and nothing owned) when the arena is full.</summary>
    public static bool TryAllocate(in RpalMessage header, int length, out RpalOutgoingMessage message)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (!RpalEngine.TryAlloc((nuint)length, out RpalBuffer buffer))
        {
            message = default;
            return false;
        }

        message = new RpalOutgoingMessage(WithPayload(in header, buffer, length));
        return true;
    }

    private static RpalMessage WithPayload(in RpalMessage header, RpalBuffer buffer, int length)
    {
        RpalMessage m = header;
        m.Data = buffer.Address;
        m.Length = (ulong)length;
        return m;
    }

    /// <summary>The message: its words, status and flags may be set; its payload stays owned by this value.</summary>
    [UnscopedRef]
    public ref RpalMessage Message => ref _message;

    /// <summary>True while this value owns a payload (not sent, not freed).</summary>
    public readonly bool OwnsPayload => _message.Data != 0;

    /// <summary>The owned payload as writable bytes (<see cref="RpalMessage.Length"/> of them; empty without one).</summary>
    public readonly unsafe Span<byte> Payload =>
        _message.Data == 0 ? default : new Span<byte>((void*)_message.Data, checked((int)_message.Length));

    /// <summary>
    /// True when a send function that returned <paramref name="rc"/> took the payload (it is then
    /// the engine's: lent to the peer, or freed); false for -EAGAIN, -EINVAL and -EBADF, after
    /// which the payload is still the sender's.
    /// </summary>
    public static bool IsTaken(int rc) => rc != -RpalErrno.EAGAIN && rc != -RpalErrno.EINVAL && rc != -RpalErrno.EBADF;

    /// <summary>
    /// Records the result of handing <see cref="Message"/> to a send function yourself: forgets
    /// the payload when the engine took it (<see cref="IsTaken"/>). Returns <paramref name="rc"/>.
    /// </summary>
    public int Sent(int rc)
    {
        if (IsTaken(rc))
        {
            Forget();
        }

        return rc;
    }

    /// <summary>
    /// Gives up ownership without freeing: returns the message, whose payload the caller now
    /// owns (to hand to another owner, such as a returned value or an <see cref="RpalOutgoingMessage"/>).
    /// </summary>
    public RpalMessage Detach()
    {
        RpalMessage m = _message;
        Forget();
        return m;
    }

    /// <summary>Frees the payload if this value still owns it (the message was not sent); idempotent.</summary>
    public void Dispose()
    {
        nint data = _message.Data;
        if (data != 0)
        {
            Forget();
            RpalEngine.Free(data);
        }
    }

    private void Forget()
    {
        _message.Data = 0;
        _message.Length = 0;
    }
}
