using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>Options of an <see cref="RpalServer"/>.</summary>
public sealed class RpalServerOptions
{
    /// <summary>
    /// Receiver threads serving calls (each connection is served by one of them). Default 1.
    /// Incoming calls run inline on a receiver thread; a handler that suspends continues on
    /// the same receiver.
    /// </summary>
    public int ReceiverThreads { get; set; } = 1;

    /// <summary>
    /// Send the exception's type, message and stack trace to callers when a handler throws
    /// (otherwise only its message). Default false.
    /// </summary>
    public bool EnableDetailedErrors { get; set; }

    /// <summary>
    /// Server interceptors (<c>Grpc.Core.Interceptors.Interceptor</c>) around every handler of the
    /// gRPC services added with <see cref="RpalServer.AddService(Grpc.Core.ServerServiceDefinition)"/>,
    /// the first in the list outermost, as grpc-dotnet's <c>GrpcServiceOptions.Interceptors</c>.
    /// [RpalService] implementations are plain objects: decorate them instead.
    /// </summary>
    public IList<Grpc.Core.Interceptors.Interceptor> Interceptors { get; } = [];

    /// <summary>
    /// Users and groups whose clients every service of this server admits besides this process's
    /// own user (always admitted), unless the service was added with its own
    /// <see cref="RpalServiceOptions"/>. Empty by default: same user only. Clients of other users
    /// also need a runtime directory shared with them (<see cref="RpalEngineOptions.RuntimeGroup"/>).
    /// A client that is not admitted is refused before it sees anything of the server:
    /// its connect fails with PermissionDenied, and the server logs why.
    /// </summary>
    public RpalAccess AllowedPeers { get; } = new();

    /// <summary>
    /// Clients each service accepts at once, unless the service has its own
    /// <see cref="RpalServiceOptions"/>; one past it fails to connect with ResourceExhausted.
    /// Default 1024; 0 means no limit.
    /// </summary>
    public int MaxConnectionsPerService { get; set; } = 1024;

    /// <summary>
    /// Calls one client connection may have running at once on this server (unary and streaming
    /// alike, from the request's arrival until it is answered). A request past it is answered at
    /// once with ResourceExhausted, never queued; other connections are not affected. Default
    /// 1024, the engine's own limit per connection
    /// (<see cref="RpalEngineOptions.MaxCallsPerConnection"/>), so that a well-behaved client
    /// (<see cref="RpalChannelOptions.MaxConcurrentCalls"/>, 128) never meets it; it stops a
    /// client that bypasses its engine's limit. 0 means no limit.
    /// </summary>
    public int MaxConcurrentCallsPerConnection { get; set; } = 1024;

    /// <summary>
    /// The largest request body, or client-stream element, this server accepts, in bytes (the
    /// encoded body: the method's parameters as docs/wire.md describes them, a <c>byte[]</c> or
    /// string with its 4-byte length). A larger one fails that call with ResourceExhausted,
    /// naming both sizes, before its body is decoded or its handler runs; the connection and its
    /// other calls go on. Bodies small enough to travel inline (16 bytes) are never refused.
    /// Default 16 MiB (a quarter of the 64 MiB of the engine's default arena kept for messages,
    /// which bounds what a client can send at all); null means no limit.
    /// </summary>
    public int? MaxReceiveMessageSize { get; set; } = RpalLimits.DefaultMaxReceiveMessageSize;

    /// <summary>
    /// The largest reply body, or server-stream element, this server sends, in bytes (encoded).
    /// A larger reply fails the call with ResourceExhausted instead; a larger element fails the
    /// handler's write with it. Default null: no limit but the arena's.
    /// </summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>How long StopAsync waits for calls in flight before it cancels them. Default 5 s.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Where the server logs: connects and disconnects, clients that died with calls in flight, refused clients, malformed input, handler errors, and the
    /// engine's reports (category "Rpal.Engine"); docs/observability.md lists the events. Default
    /// null: no logging (<see cref="Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory"/>).
    /// Read when the server starts.
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }
}
