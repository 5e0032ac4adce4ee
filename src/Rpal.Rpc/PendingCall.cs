using System.Threading.Tasks.Sources;
using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>
/// A submitted call waiting for its completion: the channel's completion thread hands it the
/// engine's completion, a cancellation or deadline (<see cref="DeadlineTimer"/>, whose entry
/// the call is) may end it first. Pooled per result type.
/// </summary>
internal abstract class PendingCall : DeadlineTimer.Entry
{
    /// <summary>The engine completion arrived (on the channel's completion thread, or on the caller's when it came within its spin).</summary>
    public abstract void OnCompletion(in RpalCompletion completion);
}

/// <summary>
/// A pending call whose caller awaits a <typeparamref name="TValue"/>. Its result is set on
/// whatever thread ends the call (the completion receiver, the deadline thread, a canceller);
/// the caller's continuation then goes to its scheduling context or to
/// <see cref="CallContinuations"/>, never inline on that thread.
/// </summary>
internal sealed class PendingCall<TResponse, TValue> : PendingCall, IValueTaskSource<TValue>, IValueTaskSource, CallContinuation.IDispatch
    where TResponse : struct, IRpalResponse<TResponse, TValue>
{
    [ThreadStatic]
    private static PendingCall<TResponse, TValue>? s_cached;

    private ManualResetValueTaskSourceCore<TValue> _core; // continuations run synchronously: they only post (CallContinuation)
    private CallContinuation _continuation;
    private RpalChannel? _channel;
    private RpalMethod? _method;
    private RpalCallScope? _scope;
    private CancellationTokenRegistration _registration;
    private ulong _callId;
    private long _observed; // RpalMetrics.ClientCallStarting's timestamp; 0: not observed

    // 2 owners: the engine (until its completion arrives) and the caller (until it takes the
    // result). The last one out returns the object to the pool.
    private int _owners;

    // 0 running, 1 ended (result set)
    private int _ended;

    public static PendingCall<TResponse, TValue> Rent()
    {
        PendingCall<TResponse, TValue>? p = s_cached;
        if (p is not null)
        {
            s_cached = null;
            return p;
        }

        return new PendingCall<TResponse, TValue>();
    }

    public short Version => _core.Version;

    public void Begin(RpalChannel channel, RpalMethod method, RpalCallScope? scope, long observed)
    {
        _observed = observed;
        _channel = channel;
        _method = method;
        _scope = scope;
        _owners = 2;
        _ended = 0;
    }

    /// <summary>After the submit: watch the token and the deadline.</summary>
    public void Watch(ulong callId, long deadline, CancellationToken cancellationToken)
    {
        _callId = callId;
        if (deadline != 0)
        {
            DeadlineTimer.Schedule(this, deadline);
        }

        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(static s => ((PendingCall<TResponse, TValue>)s!).End(StatusCode.Cancelled, "Cancelled"), this);
        }
    }

    /// <summary>The submit failed: no completion will come.</summary>
    public void FailSubmit(Exception e)
    {
        _owners = 1;
        Interlocked.Exchange(ref _ended, 1);
        Diagnostics.RpalMetrics.ClientCallEnded(_method!, Diagnostics.RpalMetrics.CodeOf(e), _observed);
        _core.SetException(e);
    }

    public override void OnCompletion(in RpalCompletion completion)
    {
        _channel!.Limiter.Exit(); // the engine counts the call no more, whether or not the caller still waits
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            TValue value = default!;
            Exception? error = null;
            try
            {
                if (completion.Result < 0)
                {
                    error = StatusMapper.FromErrno(completion.Result, _method!);
                }
                else
                {
                    RpalMessage reply = completion.Reply;
                    value = _channel!.ReadReply<TResponse, TValue>(_method!, ref reply, _scope);
                }
            }
            catch (Exception e)
            {
                error = e;
            }

            // Leave before publishing the result: the caller, who leaves last, then returns the
            // object to its own thread's pool, where its next call rents it again.
            if (_observed != 0)
            {
                Diagnostics.RpalMetrics.ClientCallEnded(_method!, error is null ? StatusCode.OK : Diagnostics.RpalMetrics.CodeOf(error), _observed);
            }

            Interlocked.Decrement(ref _owners);
            if (error is null)
            {
                _core.SetResult(value);
            }
            else
            {
                _core.SetException(error);
            }

            return;
        }

        if (completion.Result == 0 && completion.Reply.Data != 0)
        {
            _channel!.Connection.Release(in completion.Reply); // a late reply nobody reads
        }

        Leave();
    }

    protected internal override void Fire() => End(StatusCode.DeadlineExceeded, "Deadline Exceeded");

    /// <summary>Cancellation or deadline: ends the call for the caller now; tells the server.</summary>
    private void End(StatusCode code, string detail)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        _channel!.SendCancel(_callId);
        Diagnostics.RpalMetrics.ClientCallEnded(_method!, code, _observed);
        _core.SetException(new RpcException(new Status(code, detail)));
    }

    public TValue GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Leave();
        }
    }

    void IValueTaskSource.GetResult(short token)
    {
        try
        {
            _core.GetResult(token);
        }
        finally
        {
            Leave();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _continuation.OnCompleted(ref _core, this, continuation, state, token, flags);

    void CallContinuation.IDispatch.Dispatch() => _continuation.Post();

    private void Leave()
    {
        if (Interlocked.Decrement(ref _owners) != 0)
        {
            return;
        }

        // Dispose and Cancel wait for a token's or the deadline's callback running on another
        // thread, so none can reach this object once it is back in the pool.
        _registration.Dispose();
        _registration = default;
        DeadlineTimer.Cancel(this);
        _channel = null;
        _method = null;
        _scope = null;
        _core.Reset();
        s_cached = this;
    }
}
