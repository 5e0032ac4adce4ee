namespace Rpal.Runtime;

/// <summary>
/// The operations with owned messages: a send takes an <see cref="RpalOutgoingMessage"/> by
/// <c>ref</c> and moves its payload to the engine when the engine takes it; a reply comes back
/// as an <see cref="RpalReceivedMessage"/> that releases its payload when disposed.
/// </summary>
public sealed partial class RpalConnection
{
    /// <summary>
    /// As <see cref="Send(in RpalMessage)"/>; afterwards <paramref name="message"/> owns its
    /// payload only if the engine did not take it (-EAGAIN, -EINVAL, -EBADF: see
    /// <see cref="RpalOutgoingMessage.IsTaken"/>).
    /// </summary>
    public int Send(ref RpalOutgoingMessage message) => message.Sent(Send(in message.Message));

    /// <summary>
    /// As <see cref="Reply(ulong, in RpalMessage)"/>; afterwards <paramref name="reply"/> owns
    /// its payload only if the engine did not take it.
    /// </summary>
    public int Reply(ulong id, ref RpalOutgoingMessage reply) => reply.Sent(Reply(id, in reply.Message));

    /// <summary>
    /// As <see cref="Submit(in RpalMessage, ulong, out ulong)"/>; afterwards
    /// <paramref name="request"/> owns its payload only if the engine did not take it.
    /// </summary>
    public int Submit(ref RpalOutgoingMessage request, ulong userData, out ulong callId) =>
        request.Sent(Submit(in request.Message, userData, out callId));

    /// <summary>
    /// As <see cref="Call(in RpalMessage, out RpalMessage, int)"/>, with owned messages:
    /// afterwards <paramref name="request"/> owns its payload only if the engine did not take it,
    /// and on 0 <paramref name="reply"/> owns the reply's payload (dispose it to release it).
    /// </summary>
    public int Call(ref RpalOutgoingMessage request, out RpalReceivedMessage reply, int timeoutMs)
    {
        int rc = request.Sent(Call(in request.Message, out RpalMessage received, timeoutMs));
        reply = rc == 0 ? new RpalReceivedMessage(this, in received) : default;
        return rc;
    }
}
