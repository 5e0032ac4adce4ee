using Grpc.Core;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// <see cref="CallContextPropagation.PropagateFrom"/> on its own: which deadline and token a child
/// call gets from its parent's context and its own options (the cross-process behaviour is in
/// GrpcContextPropagationTests).
/// </summary>
public sealed class CallContextPropagationTests
{
    private static readonly DateTime s_parentDeadline = DateTime.UtcNow.AddMinutes(5);

    [Fact]
    public void TheParentsDeadlineAndToken_AreTheChildsByDefault()
    {
        using var parent = new CancellationTokenSource();
        CallOptions options = new CallOptions().PropagateFrom(new Context(s_parentDeadline, parent.Token));
        Assert.Equal(s_parentDeadline, options.Deadline);
        Assert.Equal(parent.Token, options.CancellationToken);
    }

    [Fact]
    public void AnEarlierDeadlineOfTheChild_Stays_ALaterOneGivesWay()
    {
        var context = new Context(s_parentDeadline, CancellationToken.None);
        DateTime earlier = s_parentDeadline.AddSeconds(-30);
        Assert.Equal(earlier, new CallOptions(deadline: earlier).PropagateFrom(context).Deadline);
        Assert.Equal(s_parentDeadline, new CallOptions(deadline: s_parentDeadline.AddSeconds(30)).PropagateFrom(context).Deadline);
    }

    [Fact]
    public void AParentWithoutDeadlineOrToken_LeavesTheChildAsItIs()
    {
        CallOptions options = new CallOptions().PropagateFrom(new Context(DateTime.MaxValue, CancellationToken.None));
        Assert.Null(options.Deadline);
        Assert.False(options.CancellationToken.CanBeCanceled);
    }

    [Fact]
    public void AChildWithATokenOfItsOwn_IsCancelledByEither()
    {
        using var parent = new CancellationTokenSource();
        using var own = new CancellationTokenSource();
        var context = new Context(s_parentDeadline, parent.Token);

        CancellationToken byParent = new CallOptions(cancellationToken: own.Token).PropagateFrom(context).CancellationToken;
        using var own2 = new CancellationTokenSource();
        CancellationToken byOwn = new CallOptions(cancellationToken: own2.Token).PropagateFrom(context).CancellationToken;

        own2.Cancel();
        Assert.True(byOwn.IsCancellationRequested);
        Assert.False(byParent.IsCancellationRequested);
        parent.Cancel();
        Assert.True(byParent.IsCancellationRequested);
    }

    [Fact]
    public void TheOptions_ChooseWhatIsCarried()
    {
        using var parent = new CancellationTokenSource();
        var context = new Context(s_parentDeadline, parent.Token);
        CallOptions deadlineOnly = new CallOptions().PropagateFrom(context, new ContextPropagationOptions(propagateDeadline: true, propagateCancellation: false));
        Assert.Equal(s_parentDeadline, deadlineOnly.Deadline);
        Assert.False(deadlineOnly.CancellationToken.CanBeCanceled);

        CallOptions tokenOnly = new CallOptions().PropagateFrom(context, new ContextPropagationOptions(propagateDeadline: false, propagateCancellation: true));
        Assert.Null(tokenOnly.Deadline);
        Assert.Equal(parent.Token, tokenOnly.CancellationToken);
    }

    [Fact]
    public void AMissingContext_IsAnArgumentError() =>
        Assert.Throws<ArgumentNullException>(() => new CallOptions().PropagateFrom(null!));

    /// <summary>A server call's context with only a deadline and a token.</summary>
    private sealed class Context(DateTime deadline, CancellationToken token) : ServerCallContext
    {
        protected override string MethodCore => "/test/Method";

        protected override string HostCore => "localhost";

        protected override string PeerCore => "test";

        protected override DateTime DeadlineCore => deadline;

        protected override Metadata RequestHeadersCore => new();

        protected override CancellationToken CancellationTokenCore => token;

        protected override Metadata ResponseTrailersCore => new();

        protected override Status StatusCore { get; set; }

        protected override WriteOptions? WriteOptionsCore { get; set; }

        protected override AuthContext AuthContextCore => new(null, new Dictionary<string, List<AuthProperty>>());

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
