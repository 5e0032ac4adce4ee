using Grpc.Core;

namespace Rpal.Rpc;

/// <summary>
/// Per-call metadata on the client side: the request headers sent with, and the response
/// headers, trailers and status received from, the calls made while the scope is current (on
/// this thread and in the async flow it starts).
/// </summary>
/// <example>
/// <code>
/// using (var scope = new RpalCallScope(new Metadata { { "tenant", "blue" } }))
/// {
///     int sum = calculator.Add(2, 3);
///     string? served = scope.ResponseTrailers?.GetValue("served-by");
/// }
/// </code>
/// </example>
public sealed class RpalCallScope : IDisposable
{
    private static readonly AsyncLocal<RpalCallScope?> s_current = new();
    private readonly RpalCallScope? _previous;
    private bool _disposed;

    /// <summary>Starts a scope that sends <paramref name="requestHeaders"/> with each call.</summary>
    public RpalCallScope(Metadata? requestHeaders = null, DateTime? deadline = null)
    {
        RequestHeaders = requestHeaders;
        Deadline = deadline;
        _previous = s_current.Value;
        s_current.Value = this;
    }

    /// <summary>The headers sent with each call in the scope (null: none).</summary>
    public Metadata? RequestHeaders { get; }

    /// <summary>The deadline (UTC) of each call in the scope (null: the client's own).</summary>
    public DateTime? Deadline { get; }

    /// <summary>
    /// The response headers of the last call that ended in the scope (null: its server wrote
    /// none; <see cref="ServerCallContext.WriteResponseHeadersAsync"/>).
    /// </summary>
    public Metadata? ResponseHeaders { get; internal set; }

    /// <summary>The trailers of the last call that ended in the scope (null: it sent none).</summary>
    public Metadata? ResponseTrailers { get; internal set; }

    /// <summary>The status of the last call that ended in the scope.</summary>
    public Status Status { get; internal set; }

    private RpalCallScope(bool install)
    {
        _disposed = !install; // a detached scope has nothing to undo
        if (install)
        {
            _previous = s_current.Value;
            s_current.Value = this;
        }
    }

    internal static RpalCallScope? Current => s_current.Value;

    /// <summary>The server answered the last call that ended in the scope (its reply was read): its status and metadata are the server's.</summary>
    internal bool Answered { get; set; }

    /// <summary>A scope that is never current: it only collects one call's status and trailers.</summary>
    internal static RpalCallScope Detached() => new(install: false);

    /// <summary>Ends the scope: calls made after this do not see it.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            s_current.Value = _previous;
        }
    }
}
