using System.Diagnostics.CodeAnalysis;

namespace Rpal.Runtime;

/// <summary>
/// A received one-way message or reply that owns its lent payload (in the peer's arena,
/// read-only): <see cref="Dispose"/> gives the payload back to its owner
/// (<see cref="RpalConnection.Release"/>), exactly once. A request received for a call is not
/// one of these: its payload goes back with the reply (<see cref="RpalConnection.Reply(ulong, in RpalMessage)"/>).
/// </summary>
/// <remarks>
/// A struct, so that owning costs no allocation: ownership follows the variable. A copy owns the
/// same payload, so move it (store it, and do not dispose the original) or hand it on by
/// <c>ref</c>. <see cref="Dispose"/> is idempotent on one variable, and ignores the connection's
/// errors: a connection that failed or was disposed gave the payload back already. Read the
/// payload only before disposing.
/// </remarks>
public struct RpalReceivedMessage : IDisposable
{
    private readonly RpalConnection? _connection;
    private RpalMessage _message;

    /// <summary>Takes ownership of the payload of <paramref name="message"/>, received on <paramref name="connection"/>.</summary>
    public RpalReceivedMessage(RpalConnection connection, in RpalMessage message)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _message = message;
    }

    /// <summary>The message as received; its payload is valid until <see cref="Dispose"/>.</summary>
    [UnscopedRef]
    public readonly ref readonly RpalMessage Message => ref _message;

    /// <summary>True while this value holds a lent payload not given back yet.</summary>
    public readonly bool OwnsPayload => _message.Data != 0;

    /// <summary>The payload (empty without one): the peer's read-only memory, valid until <see cref="Dispose"/>.</summary>
    public readonly ReadOnlySpan<byte> Payload => _message.Payload;

    /// <summary>
    /// Gives up ownership without releasing: returns the message, whose payload the caller must
    /// now give back.
    /// </summary>
    public RpalMessage Detach()
    {
        RpalMessage m = _message;
        _message.Data = 0;
        _message.Length = 0;
        return m;
    }

    /// <summary>
    /// Gives the payload back to the peer (rpal_release), once; does nothing without a payload or
    /// when already released. Returns what <see cref="RpalConnection.Release"/> returned (0 when
    /// there was nothing to release).
    /// </summary>
    public int Release()
    {
        if (_message.Data == 0 || _connection is null)
        {
            return 0;
        }

        RpalMessage m = Detach();
        return _connection.Release(in m);
    }

    /// <summary>As <see cref="Release"/>, ignoring the result (a failed connection gave the payload back already).</summary>
    public void Dispose() => Release();
}
