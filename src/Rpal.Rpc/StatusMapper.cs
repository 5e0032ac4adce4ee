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
