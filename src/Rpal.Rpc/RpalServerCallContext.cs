using Grpc.Core;
using Rpal.Rpc.Generated;

namespace Rpal.Rpc;

/// <summary>
/// The <see cref="ServerCallContext"/> of a call being served: its method, deadline, request
/// headers, cancellation token, response headers and trailers, and status. Its deadline and
/// cancellation reach the calls its handler makes through <see cref="CallContextPropagation.PropagateFrom"/>.
/// </summary>
/// <remarks>
/// <see cref="Current"/> is set while the handler runs on the receiver thread, up to its first
/// <c>await</c> that suspends; a handler that needs the context after that keeps it in a local.
/// </remarks>
public sealed class RpalServerCallContext : ServerCallContext
{
    [ThreadStatic]
    private static RpalServerCallContext? s_current;

    private readonly RpalServerCall _call;
    private Metadata? _trailers;

    internal RpalServerCallContext(RpalServerCall call) => _call = call;

    /// <summary>The context of the call whose handler is running on this thread, or null.</summary>
    public static RpalServerCallContext? Current => s_current;

    internal static RpalServerCallContext? Exchange(RpalServerCallContext? context)
    {
        RpalServerCallContext? previous = s_current;
        s_current = context;
        return previous;
    }

    internal Metadata? TrailersIfAny => _trailers is { Count: > 0 } ? _trailers : null;

    /// <summary>Ready for the next call of the pooled <see cref="RpalServerCall"/>.</summary>
    internal void Reset()
    {
        _trailers = null;
        StatusCore = default;
        WriteOptionsCore = null;
    }

    /// <inheritdoc/>
    protected override string MethodCore => _call.MethodFullName;

    /// <inheritdoc/>
    protected override string HostCore => "localhost";

    /// <inheritdoc/>
    protected override string PeerCore => _call.PeerName;

    /// <inheritdoc/>
    protected override DateTime DeadlineCore => _call.DeadlineUtc;

    /// <inheritdoc/>
    protected override Metadata RequestHeadersCore => _call.RequestHeaders;

    /// <inheritdoc/>
    protected override CancellationToken CancellationTokenCore => _call.CancellationToken;

    /// <inheritdoc/>
    protected override Metadata ResponseTrailersCore => _trailers ??= new Metadata();

    /// <inheritdoc/>
    protected override Status StatusCore { get; set; }

    /// <inheritdoc/>
    protected override WriteOptions? WriteOptionsCore { get; set; }

    /// <inheritdoc/>
    protected override AuthContext AuthContextCore =>
        new(null, new Dictionary<string, List<AuthProperty>>());

    /// <inheritdoc/>
    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException(
            "Grpc.Core.Api lets only Grpc.Core create a ContextPropagationToken (grpc-dotnet does not support it either): " +
            "give the child call new CallOptions().PropagateFrom(context) instead (Rpal.Rpc.CallContextPropagation), which carries this call's deadline and cancellation.");

    /// <inheritdoc/>
    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) =>
        _call.WriteResponseHeadersAsync(responseHeaders);
}
