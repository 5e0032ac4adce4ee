using Grpc.Core;

namespace Rpal.Rpc;

/// <summary>
/// Carries a server call's deadline and cancellation into the calls its handler makes, what
/// <see cref="ContextPropagationToken"/> does in Grpc.Core. Grpc.Core.Api lets only Grpc.Core
/// make such a token (its constructor is internal), so neither Rpal nor grpc-dotnet can return
/// one from <see cref="ServerCallContext.CreatePropagationToken"/>; the child call takes the
/// parent's context through its <see cref="CallOptions"/> instead.
/// </summary>
/// <example>
/// <code>
/// public override async Task&lt;Reply&gt; Get(Request request, ServerCallContext context)
/// {
///     // ends by this call's deadline, and is cancelled with this call
///     var detail = await _inventory.LookupAsync(new Query { Id = request.Id }, new CallOptions().PropagateFrom(context));
///     ...
/// }
/// </code>
/// </example>
public static class CallContextPropagation
{
    /// <summary>
    /// <paramref name="options"/> with the deadline and cancellation of the server call
    /// <paramref name="parent"/> (any <see cref="ServerCallContext"/>: an Rpal server's or
    /// grpc-dotnet's), as <paramref name="propagation"/> says (default: both). The child call's
    /// own deadline stays when it is earlier than the parent's; when the child has a cancellable
    /// token of its own, the result's token fires with either (a linked source that lives as long
    /// as the two tokens' sources do).
    /// </summary>
    public static CallOptions PropagateFrom(this CallOptions options, ServerCallContext parent, ContextPropagationOptions? propagation = null)
    {
        ArgumentNullException.ThrowIfNull(parent);
        propagation ??= ContextPropagationOptions.Default;
        if (propagation.IsPropagateDeadline && parent.Deadline is var deadline && deadline != DateTime.MaxValue &&
            (options.Deadline is not { } own || own.ToUniversalTime() > deadline.ToUniversalTime()))
        {
            options = options.WithDeadline(deadline);
        }

        CancellationToken parentToken = parent.CancellationToken;
        if (propagation.IsPropagateCancellation && parentToken.CanBeCanceled)
        {
            options = options.WithCancellationToken(options.CancellationToken.CanBeCanceled
                ? CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken, parentToken).Token
                : parentToken);
        }

        return options;
    }
}
