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
    /// How long a waiter spins before it parks in the kernel. The budget is the engine's and so
    /// process-wide: setting it here sets it for every wait in the process (the last server or
    /// channel that sets it wins). Default: the engine's (50 µs, or the RPAL_SPIN_NS environment
    /// variable). <see cref="TimeSpan.Zero"/> always parks.
    /// </summary>
    public TimeSpan? SpinBudget { get; set; }

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

    /// <summary>How long StopAsync waits for calls in flight before it cancels them. Default 5 s.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(5);
}
