namespace Rpal.Rpc;

/// <summary>Options of an <see cref="RpalChannel"/>.</summary>
public sealed class RpalChannelOptions
{
    /// <summary>
    /// The deadline of every call made through the channel unless the call has its own
    /// (see <see cref="RpalChannel.CreateClient{TService}(Grpc.Core.CallOptions)"/>). Default: none.
    /// </summary>
    public TimeSpan? DefaultTimeout { get; set; }

    /// <summary>
    /// Whether an awaited call spins on the calling thread for its answer, and a server stream's
    /// reader for its next element, for up to the spin budget, before leaving the wait to the
    /// completion thread (docs/threading.md). A server that answers within the budget then
    /// completes the call before the method returns, and the <c>await</c> goes on at once, with no
    /// thread woken. A channel (or stream) whose waits outlast the budget skips the spin by itself
    /// for a while after misses. Default true; false: awaited calls return at once after the
    /// submit, and readers wait for the completion thread.
    /// </summary>
    public bool SpinOnAwaitedCalls { get; set; } = true;

    /// <summary>
    /// Users and groups this client accepts as the server besides its own user (always
    /// accepted). Empty by default: a server of another user is refused (PermissionDenied)
    /// before anything is sent to it. Servers of other users also need a runtime directory
    /// shared with them (<see cref="Rpal.Runtime.RpalEngineOptions.RuntimeGroup"/>).
    /// </summary>
    public Rpal.Runtime.RpalAccess TrustedServers { get; } = new();

    /// <summary>
    /// Calls this channel has in flight at once: unary (blocking and awaited) and streaming calls
    /// all count, from the submit until the server's answer arrives (a call that ended early on
    /// its deadline or cancellation counts until then too, as the engine's does). Past it, a new
    /// call waits or fails as <see cref="CallLimitBehavior"/> says. Default 128: half the
    /// engine's default ring (256 descriptors, <see cref="Rpal.Runtime.RpalEngineOptions.RingEntries"/>),
    /// which leaves room for stream elements, credit and cancel messages, and well below the
    /// engine's own limit (1024, <see cref="Rpal.Runtime.RpalEngineOptions.MaxCallsPerConnection"/>),
    /// so a caller never blocks inside the engine without its deadline. 0 means no limit (the
    /// engine's waits then apply, which ignore deadlines and tokens).
    /// </summary>
    public int MaxConcurrentCalls { get; set; } = 128;

    /// <summary>
    /// What a call does when <see cref="MaxConcurrentCalls"/> are in flight. Default
    /// <see cref="RpalCallLimitBehavior.Wait"/>: it waits for one to end, bounded by its deadline
    /// (DeadlineExceeded) and its cancellation token (Cancelled).
    /// </summary>
    public RpalCallLimitBehavior CallLimitBehavior { get; set; } = RpalCallLimitBehavior.Wait;

    /// <summary>
    /// The largest reply body, or server-stream element, this client accepts, in bytes (the
    /// encoded body: for a <c>byte[]</c> or string result its 4-byte length and its bytes). A
    /// larger one fails that call with ResourceExhausted, naming both sizes, without being
    /// decoded; the channel and its other calls go on. Bodies small enough to travel inline
    /// (32 bytes for a reply, 16 for an element) are never refused. Default 16 MiB (a quarter of
    /// the 64 MiB of the engine's default arena kept for messages, which bounds what a server can
    /// send at all); null means no limit.
    /// </summary>
    public int? MaxReceiveMessageSize { get; set; } = RpalLimits.DefaultMaxReceiveMessageSize;

    /// <summary>
    /// The largest request body, or client-stream element, this client sends, in bytes (encoded,
    /// as <see cref="MaxReceiveMessageSize"/>). A larger one fails that call with
    /// ResourceExhausted before anything is sent. Default null: no limit but the arena's
    /// (<see cref="Rpal.Runtime.RpalEngineOptions.ArenaSize"/>).
    /// </summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>
    /// Where the channel logs: its connect and close, the server's death, malformed replies, and
    /// the engine's reports (category "Rpal.Engine"); docs/observability.md lists the events. Default
    /// null: no logging (<see cref="Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory"/>).
    /// Read when the channel connects.
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }
}
