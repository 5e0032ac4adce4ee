namespace Rpal.Runtime;

/// <summary>
/// What a report of the engine is about (<c>enum rpal_log_code</c>, native/librpal/docs/api.md,
/// "Log sink"): act on the code, never on the text, which may change in any release. A value keeps
/// its meaning for good; later engines may add values, which are to be treated as <see cref="Other"/>.
/// </summary>
public enum RpalLogCode
{
    /// <summary>Nothing more specific (also this library's own reports, but for refused clients).</summary>
    Other = 0,

    /// <summary>The runtime directory cannot be made or opened, or its owner, group or mode is wrong.</summary>
    RuntimeDirectory = 1,

    /// <summary>The slot window cannot be reserved.</summary>
    Window = 2,

    /// <summary>An entry of this process in the runtime directory cannot be made, written or taken back.</summary>
    Registry = 3,

    /// <summary>An entry of this process that someone removed was made again.</summary>
    RegistryRepaired = 4,

    /// <summary>A limit of this process was reached: slots, file descriptors, a peer's queue of replies.</summary>
    Limit = 5,

    /// <summary>This process refused a peer (credentials, trust, a limit, no hello in time).</summary>
    PeerRefused = 6,

    /// <summary>The server refused this process; the text has its reason.</summary>
    RefusedByPeer = 7,

    /// <summary>A handshake ended without a verdict: the peer hung up or sent nothing in time.</summary>
    HandshakeAborted = 8,

    /// <summary>The peer broke the handshake (a malformed or lying hello or welcome, a bad arena).</summary>
    HandshakeInvalid = 9,

    /// <summary>A connected peer broke the protocol in shared memory (a malformed descriptor, a bad release, ring positions).</summary>
    ProtocolViolation = 10,

    /// <summary>A connection failed or was closed.</summary>
    ConnectionEnded = 11,

    /// <summary>A peer's slot now belongs to another process.</summary>
    SlotReused = 12,

    /// <summary>A wake-up of a parked waiter could not be sent.</summary>
    WakeFailed = 13,
}
