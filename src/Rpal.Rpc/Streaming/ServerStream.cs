using Grpc.Core;
using Rpal.Runtime;

namespace Rpal.Rpc.Streaming;

/// <summary>
/// The stream of one server call: the client's elements in, the server's elements out. Lives
/// apart from the pooled <see cref="Generated.RpalServerCall"/> so that a reader or writer kept
/// past the end of the call sees a closed stream, never the next call.
/// </summary>
internal sealed class ServerStream
{
    private int _readerTaken;
    private int _responseStarted; // 1 once the response headers went out, or the first element (which implies empty ones)

    public ServerStream(RpalConnection connection, ulong callId, string methodName, ulong maxSend = ulong.MaxValue)
    {
        Core = new StreamCore(connection, callId, methodName, maxSend, "RpalServerOptions.MaxSendMessageSize");
        MethodName = methodName;
    }

    public StreamCore Core { get; }

    public ulong CallId => Core.CallId;

    public string MethodName { get; }

    /// <summary>The handler takes the client's stream: once per call.</summary>
    public void TakeReader()
    {
        if (Interlocked.Exchange(ref _readerTaken, 1) != 0)
        {
            throw new InvalidOperationException($"{MethodName}: the request stream can be read once.");
        }
    }

    /// <summary>
    /// Sends one of the server's elements (<see cref="StreamCore.SendAsync"/>); the first one
    /// stands for empty response headers when the handler wrote none.
    /// </summary>
    public ValueTask<int> SendAsync(RpalOutgoingMessage element, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _responseStarted, 1);
        return Core.SendAsync(element, cancellationToken);
    }

    /// <summary>
    /// Sends the response headers, before any element (docs/wire.md, "Streams"); throws
    /// <see cref="InvalidOperationException"/> when headers or an element were sent already.
    /// </summary>
    public async Task SendHeadersAsync(Metadata headers, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _responseStarted, 1) != 0)
        {
            throw Generated.RpalServerCall.HeadersAlreadySent();
        }

        int rc = await Core.SendInOrderAsync(new RpalOutgoingMessage(Wire.ControlCodec.ResponseHeaders(CallId, headers)), cancellationToken).ConfigureAwait(false);
        if (rc < 0)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"{MethodName}: the client is gone."));
        }
    }

    /// <summary>
    /// The call is being answered: stop reading and writing, release what the client sent and
    /// nobody read, and send the end marker (which must precede the reply).
    /// </summary>
    public void Finish()
    {
        Core.Close(new RpcException(new Status(StatusCode.Cancelled, $"{MethodName}: the call is complete.")));
        Core.SendEnd(); // a client that is gone needs no marker
    }
}
