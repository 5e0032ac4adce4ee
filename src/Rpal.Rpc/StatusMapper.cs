using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>Maps engine errors and handler exceptions to gRPC statuses.</summary>
internal static class StatusMapper
{
    /// <summary>The exception a client sees for a failed engine call.</summary>
    public static RpcException FromErrno(int rc, RpalMethod method) => (-rc) switch
    {
        RpalErrno.ETIMEDOUT => new RpcException(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded")),
        RpalErrno.ECONNRESET or RpalErrno.EPIPE or RpalErrno.EBADF or RpalErrno.ENOTCONN =>
            new RpcException(new Status(StatusCode.Unavailable, $"The server of {method.ServiceName} is gone ({RpalErrno.GetName(rc)}).")),
        RpalErrno.ENOBUFS or RpalErrno.ENOMEM =>
            new RpcException(new Status(StatusCode.ResourceExhausted, $"{method.FullName}: {RpalErrno.GetMessage(rc)}.")),
        RpalErrno.EPROTO => new RpcException(new Status(StatusCode.Internal, $"{method.FullName}: the peer broke the protocol.")),
        _ => new RpcException(new Status(StatusCode.Internal, $"{method.FullName}: {RpalErrno.GetName(rc)} ({RpalErrno.GetMessage(rc)}).")),
    };

    /// <summary>
    /// The status of a failed connect. A limit the client ran into is ResourceExhausted, named in
    /// the detail; the engine tells which by its errno: EUSERS the service's connection limit,
    /// ENOSPC the server's arena, EMFILE/ENFILE file descriptors (the server refuses clients to
    /// keep a reserve; this process may have run out too), ENOMEM this process's arena.
    /// </summary>
    public static Status FromConnectFailure(string serviceName, RpalException e)
    {
        string prefix = $"Cannot connect to '{serviceName}'";
        return e.Errno switch
        {
            RpalErrno.ENOENT => new Status(StatusCode.Unavailable, $"No process serves '{serviceName}' on this host.", e),
            RpalErrno.EACCES => new Status(StatusCode.PermissionDenied, $"{prefix}: the server runs as another user and one side does not admit the other (RpalServerOptions.AllowedPeers, RpalChannelOptions.TrustedServers): {e.Message}", e),
            RpalErrno.EINVAL or RpalErrno.ENAMETOOLONG => new Status(StatusCode.InvalidArgument, $"{prefix}: {e.Message}", e),
            RpalErrno.EPERM => new Status(StatusCode.FailedPrecondition, $"{prefix}: {e.Message}", e), // the runtime directory, checked again before each connect
            RpalErrno.EUSERS => new Status(StatusCode.ResourceExhausted, $"{prefix}: the service has as many clients as it accepts (its connection limit: RpalServerOptions.MaxConnectionsPerService, RpalServiceOptions.MaxConnections) (EUSERS).", e),
            RpalErrno.ENOSPC => new Status(StatusCode.ResourceExhausted, $"{prefix}: the server's connections hold half of its arena, the share they may take; the rest is kept for messages (its arena size: RpalEngineOptions.ArenaSize) (ENOSPC).", e),
            RpalErrno.EMFILE or RpalErrno.ENFILE => new Status(StatusCode.ResourceExhausted, $"{prefix}: the open-file limit (RLIMIT_NOFILE) is reached: the server keeps a reserve of file descriptors and refuses clients past it, or this process has none left ({RpalErrno.GetName(e.Errno)}).", e),
            RpalErrno.ENOMEM => new Status(StatusCode.ResourceExhausted, $"{prefix}: no room for the connection in this process's arena (RpalEngineOptions.ArenaSize), or in the server's (ENOMEM).", e),
            _ => new Status(StatusCode.Unavailable, $"{prefix}: {e.Message}", e),
        };
    }

    /// <summary>The status a handler's exception becomes.</summary>
    public static Status FromException(Exception e, bool detailed, bool canceled, bool deadlineExceeded)
    {
        if (e is RpcException rpc)
        {
            // a handler that turns its token into Cancelled after the deadline passed: the call
            // ended for its deadline (as grpc-dotnet reports it)
            return deadlineExceeded && rpc.StatusCode == StatusCode.Cancelled
                ? new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded")
                : rpc.Status;
        }

        if (e is OperationCanceledException && (canceled || deadlineExceeded))
        {
            return deadlineExceeded
                ? new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded")
                : new Status(StatusCode.Cancelled, "Cancelled");
        }

        if (e is RpalDecodeException)
        {
            return new Status(StatusCode.Internal, e.Message);
        }

        if (e is RpalException { Errno: RpalErrno.ENOMEM })
        {
            return new Status(StatusCode.ResourceExhausted, "The answer does not fit in the server's arena.");
        }

        string detail = detailed ? e.ToString() : e.Message;
        return new Status(StatusCode.Unknown, detail);
    }
}
