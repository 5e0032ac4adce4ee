using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rpal.Rpc.Diagnostics;
using Rpal.Rpc.Generated;
using Rpal.Rpc.Wire;
using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>
/// A connection to one Rpal service in another process, and the factory of its clients.
/// </summary>
/// <example>
/// <code>
/// await using var channel = await RpalChannel.ConnectAsync("demo.calculator");
/// ICalculator calc = channel.CreateClient&lt;ICalculator&gt;();
/// int sum = calc.Add(2, 3);
/// </code>
/// </example>
public sealed class RpalChannel : ChannelBase, IAsyncDisposable, IDisposable
{
    private readonly ChannelCompletions.Registration _completions;

    private readonly bool _spinOnAwait;
    private readonly Lock _siblingsLock = new();
    private Dictionary<string, RpalChannel>? _siblings;
    private readonly ILoggerFactory? _loggerFactory;
    private int _disposed;
    private int _serverGone;

    private RpalChannel(string serviceName, RpalConnection connection, RpalChannelOptions options, ILoggerFactory? loggerFactory)
        : base(serviceName)
    {
        _loggerFactory = loggerFactory;
        Logger = ContainedLogger.Create(loggerFactory ?? NullLoggerFactory.Instance, RpalLog.ChannelCategory);
        ServiceName = serviceName;
        Connection = connection;
        Options = options;
        Limiter = new CallLimiter(options.MaxConcurrentCalls, options.CallLimitBehavior);
        MaxReceive = RpalLimits.Effective(options.MaxReceiveMessageSize, "options.MaxReceiveMessageSize");
        MaxSend = RpalLimits.Effective(options.MaxSendMessageSize, "options.MaxSendMessageSize");
        _spinOnAwait = options.SpinOnAwaitedCalls;
        _completions = ChannelCompletions.Shared.Add(this);
        RpalMetrics.Track(this);
        if (Logger.IsEnabled(LogLevel.Information))
        {
            RpalPeerInfo peer = connection.PeerInfo;
            RpalLog.ChannelConnected(Logger, serviceName, peer.ProcessId, peer.UserId, peer.Slot);
        }
    }

    /// <summary>The service this channel is connected to.</summary>
    public string ServiceName { get; }

    /// <summary>The channel's options.</summary>
    public RpalChannelOptions Options { get; }

    internal RpalConnection Connection { get; }

    /// <summary>The channel's logger (<see cref="RpalChannelOptions.LoggerFactory"/> as of the connect).</summary>
    internal ILogger Logger { get; }

    /// <summary>The calls in flight (<see cref="RpalChannelOptions.MaxConcurrentCalls"/>).</summary>
    internal CallLimiter Limiter { get; }

    /// <summary><see cref="RpalChannelOptions.MaxReceiveMessageSize"/>; no limit is <see cref="ulong.MaxValue"/>.</summary>
    internal ulong MaxReceive { get; }

    /// <summary><see cref="RpalChannelOptions.MaxSendMessageSize"/>; no limit is <see cref="ulong.MaxValue"/>.</summary>
    internal ulong MaxSend { get; }

    /// <summary>
    /// Connects to the service registered as <paramref name="serviceName"/> on this host.
    /// </summary>
    /// <exception cref="RpcException">
    /// <see cref="StatusCode.Unavailable"/> when no process serves the name (or it refused us),
    /// <see cref="StatusCode.PermissionDenied"/> when it runs as another user,
    /// <see cref="StatusCode.FailedPrecondition"/> when this process cannot use its runtime
    /// directory (not private to this user, say: the detail names the directory and what is wrong
    /// with it; docs/errors.md).
    /// </exception>
    public static ValueTask<RpalChannel> ConnectAsync(string serviceName, RpalChannelOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return ValueTask.FromResult(Connect(serviceName, options));
        }
        catch (Exception e)
        {
            return ValueTask.FromException<RpalChannel>(e);
        }
    }

    /// <summary>Connects synchronously; see <see cref="ConnectAsync"/>.</summary>
    public static RpalChannel Connect(string serviceName, RpalChannelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        options ??= new RpalChannelOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxConcurrentCalls, "options.MaxConcurrentCalls");
        RpalLimits.Effective(options.MaxReceiveMessageSize, "options.MaxReceiveMessageSize");
        RpalLimits.Effective(options.MaxSendMessageSize, "options.MaxSendMessageSize");
        StartEngine(serviceName);

        RpalConnection connection;
        ILoggerFactory? loggerFactory = options.LoggerFactory;
        EngineLogRoute.Attach(loggerFactory); // the engine's reason when the server refuses us, too
        try
        {
            connection = RpalConnection.Connect(serviceName, options.TrustedServers);
        }
        catch (RpalException e)
        {
            EngineLogRoute.Detach(loggerFactory);
            throw new RpcException(StatusMapper.FromConnectFailure(serviceName, e));
        }

        return new RpalChannel(serviceName, connection, options, loggerFactory);
    }

    /// <summary>
    /// Starts the engine (once per process). It fails for reasons of this host, not of the server:
    /// a runtime directory that is not private to this user (or not made as RpalEngineOptions.RuntimeGroup
    /// says), that cannot be made or opened, a malformed RPAL_* variable, an address window taken:
    /// FailedPrecondition (ResourceExhausted when every slot is taken), the engine's reason (the
    /// directory, and what is wrong with it) in the detail.
    /// </summary>
    private static void StartEngine(string serviceName)
    {
        try
        {
            RpalEngine.Start();
        }
        catch (RpalException e)
        {
            StatusCode code = e.Errno == RpalErrno.EUSERS ? StatusCode.ResourceExhausted : StatusCode.FailedPrecondition;
            throw new RpcException(new Status(code, $"Cannot connect to '{serviceName}': the engine cannot start in this process: {e.Message}", e));
        }
    }

    /// <summary>A client of <typeparamref name="TService"/> that sends its calls through this channel.</summary>
    public TService CreateClient<TService>()
        where TService : class => CreateClient<TService>(default);

    /// <summary>
    /// A client of <typeparamref name="TService"/> whose calls carry <paramref name="options"/>: a
    /// deadline, a cancellation token and request headers, in the gRPC manner (a handler passes
    /// <c>new CallOptions().PropagateFrom(context)</c> to carry its own call's deadline and cancellation).
    /// </summary>
    public TService CreateClient<TService>(CallOptions options)
        where TService : class
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        RpalServiceDescriptor<TService> descriptor = RpalServiceRegistry.Get<TService>();
        if (descriptor.ServiceName != ServiceName)
        {
            throw new InvalidOperationException(
                $"{typeof(TService)} is the service '{descriptor.ServiceName}', but this channel is connected to '{ServiceName}'.");
        }

        return descriptor.CreateClient(new RpalClientInvoker(this, options));
    }

    /// <summary>
    /// A <see cref="CallInvoker"/> for gRPC clients generated from .proto files: calls to this
    /// channel's service use its connection; calls to another service connect to it on first use
    /// (and those connections close with this channel).
    /// </summary>
    public override CallInvoker CreateCallInvoker()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return new RpalCallInvoker(this);
    }

    /// <summary>Closes the connection; calls in flight fail with <see cref="StatusCode.Unavailable"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _completions.Dispose();
        Connection.Dispose();
        RpalMetrics.Untrack(this);
        RpalLog.ChannelClosed(Logger, ServiceName);
        EngineLogRoute.Detach(_loggerFactory);
        lock (_siblingsLock)
        {
            foreach (RpalChannel sibling in _siblings?.Values ?? Enumerable.Empty<RpalChannel>())
            {
                sibling.Dispose();
            }

            _siblings = null;
        }
    }

    /// <inheritdoc/>
    protected override Task ShutdownAsyncCore()
    {
        Dispose();
        return Task.CompletedTask;
    }

    /// <summary>The completion thread saw the server hang up (logged once; not after Dispose).</summary>
    internal void OnServerGone()
    {
        if (_disposed != 0 || Interlocked.Exchange(ref _serverGone, 1) != 0 || !Logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }

        try
        {
            RpalPeerInfo peer = Connection.PeerInfo;
            RpalLog.ServerDied(Logger, ServiceName, peer.ProcessId, peer.Slot);
        }
        catch (Exception e) when (e is ObjectDisposedException or RpalException)
        {
            // disposed meanwhile: nothing to report
        }
    }

    /// <summary>This channel for its own service, a channel connected on first use for another.</summary>
    internal RpalChannel ForService(string serviceName)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (serviceName == ServiceName)
        {
            return this;
        }

        lock (_siblingsLock)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            _siblings ??= [];
            if (!_siblings.TryGetValue(serviceName, out RpalChannel? sibling))
            {
                try
                {
                    sibling = Connect(serviceName, Options); // throws RpcException: the call fails with it
                }
                catch (RpcException e) when (e.Status.DebugException is RpalException { Errno: RpalErrno.ENOENT } && ServerIsAlive(out int pid))
                {
                    // Nobody serves the name, and this channel's server is there to say it does
                    // not host it: what a gRPC server answers for a service it lacks (docs/grpc.md).
                    throw new RpcException(new Status(StatusCode.Unimplemented,
                        $"Service '{serviceName}' is not implemented by the server of this channel (process {pid}, serving '{ServiceName}'), and no other process on this host serves it.", e));
                }

                _siblings[serviceName] = sibling;
            }

            return sibling;
        }
    }

    /// <summary>
    /// Whether the process this channel is connected to still runs (its pid in
    /// <paramref name="processId"/>): not hung up, and /proc shows it neither gone nor a zombie.
    /// </summary>
    private bool ServerIsAlive(out int processId)
    {
        processId = 0;
        if (_disposed != 0 || Volatile.Read(ref _serverGone) != 0)
        {
            return false;
        }

        try
        {
            processId = Connection.PeerInfo.ProcessId;
            string stat = File.ReadAllText($"/proc/{processId}/stat");
            int end = stat.LastIndexOf(')'); // "pid (comm) S ...": the name may hold anything
            return end > 0 && end + 2 < stat.Length && stat[end + 2] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or RpalException)
        {
            return false; // gone, or not ours to look at: say what the connect said
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    /// <summary>
    /// Submits an awaited call and spins, up to the engine's spin budget, for its answer on the
    /// caller's thread (rpal_call_submit_spin): when the server answers within the budget the
    /// call completes here (<paramref name="pending"/>'s result is set, returns 1) and its await
    /// goes on at once, with no thread woken; the completion thread and then a thread-pool
    /// thread would otherwise take two wake-ups. Else returns 0 (the completion thread delivers
    /// the completion), or the submit's -errno. The engine's spin policy decides whether and how
    /// long to spin (not when the server's receiver is parked, nor for a server slower than the
    /// budget); at most half of the processors spin at once (<see cref="SpinPolicy"/>).
    /// </summary>
    internal int SubmitAndSpin(in RpalMessage message, PendingCall pending, out ulong callId)
    {
        if (!_spinOnAwait || !SpinPolicy.TryEnterSpinner())
        {
            return Submit(in message, pending, out callId);
        }

        ulong token = _completions.Track(pending);
        int rc = -RpalErrno.EBADF;
        RpalCompletion completion = default;
        callId = 0;
        try
        {
            rc = Connection.SubmitAndSpin(in message, token, spin: null, out callId, out completion);
        }
        finally
        {
            SpinPolicy.ExitSpinner();
        }

        if (rc != 0)
        {
            _completions.Untrack(token);
        }

        if (rc == 1)
        {
            pending.OnCompletion(in completion);
        }

        return rc;
    }

    internal int Submit(in RpalMessage message, PendingCall pending, out ulong callId)
    {
        ulong token = _completions.Track(pending);
        int rc = Connection.Submit(in message, token, out callId);
        if (rc < 0)
        {
            _completions.Untrack(token);
        }

        return rc;
    }

    /// <summary>
    /// Submits a call that opens a stream and enters it in the stream table (with any elements
    /// that raced ahead of the submit's return). Returns the engine's result: -EAGAIN, without
    /// waiting, when the ring is full or every call slot is taken (nothing taken).
    /// </summary>
    internal int SubmitStream(in RpalMessage message, Streaming.ClientStreamCall call)
    {
        _completions.BeginStream();
        ulong token = _completions.Track(call);
        RpalMessage sent = message;
        sent.Flags = RpalMessage.DontWait;
        int rc = Connection.Submit(in sent, token, out ulong callId);
        if (rc < 0)
        {
            _completions.Untrack(token);
            _completions.EndStream();
            return rc;
        }

        _completions.AddStream(callId, call, new Streaming.StreamCore(Connection, callId, call.Method.FullName, MaxSend, "RpalChannelOptions.MaxSendMessageSize")
        {
            Pump = _spinOnAwait ? _completions.Pump : null,
        });
        return 0;
    }

    /// <summary>Takes a stream out of the table (its call is over and nothing more comes).</summary>
    internal void ForgetStream(ulong callId) => _completions.RemoveStream(callId);

    /// <summary>
    /// The user data of a blocking call that outlived its deadline: the engine keeps its slot
    /// until the late reply (or the connection's end) arrives as a completion with this tag, and
    /// so does the channel's limiter (<see cref="OnAbandonedCallEnded"/>).
    /// </summary>
    internal const ulong AbandonedCall = ulong.MaxValue;

    /// <summary>
    /// A blocking call of at most <paramref name="timeoutMs"/> (below 0: none) that holds a slot
    /// of the limiter: 1 and <paramref name="completion"/> when it was answered; 0 when the
    /// deadline passed first (the call keeps its limiter slot until the engine lets it go); the
    /// engine's error otherwise (the slot is the caller's to give back).
    /// </summary>
    internal int CallBlocking(in RpalMessage message, int timeoutMs, out RpalCompletion completion)
    {
        int rc = Connection.CallOrSubmit(in message, AbandonedCall, timeoutMs, out _, out completion);
        if (rc == 0)
        {
            try
            {
                _completions.WatchCompletions(); // its completion comes to the completion thread
            }
            catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
            {
                // the channel is closing: its limiter counts nothing any more
            }
        }

        return rc;
    }

    /// <summary>A blocking call given up at its deadline has ended in the engine: its slot is free.</summary>
    internal void OnAbandonedCallEnded(in RpalCompletion completion)
    {
        if (completion.Result == 0 && completion.Reply.Data != 0)
        {
            Connection.Release(in completion.Reply); // nobody reads the late reply
        }

        Limiter.Exit();
    }

    internal void SendCancel(ulong callId)
    {
        RpalMessage cancel = ControlCodec.Cancel(callId);
        Connection.Post(in cancel); // never blocks: a stopped server gets it when it takes again; a dead one needs none
    }

    /// <summary>Decodes a reply, releases its payload, throws for a non-OK status.</summary>
    internal TValue ReadReply<TResponse, TValue>(RpalMethod method, ref RpalMessage reply, RpalCallScope? scope)
        where TResponse : struct, IRpalResponse<TResponse, TValue>
    {
        using var received = new RpalReceivedMessage(Connection, in reply); // released however this ends
        try
        {
            Status status = ParseReply(ref reply, method, out Metadata? trailers, out Metadata? headers, out ReadOnlySpan<byte> body);
            if (scope is not null)
            {
                scope.ResponseTrailers = trailers;
                scope.ResponseHeaders = headers;
                scope.Status = status;
                scope.Answered = true;
            }

            if (status.StatusCode != StatusCode.OK)
            {
                throw new RpcException(status, trailers ?? new Metadata());
            }

            var reader = new RpalReader(body);
            return TResponse.Read(ref reader).Value;
        }
        catch (RpalDecodeException e)
        {
            RpalLog.MalformedReply(Logger, method.FullName, e.Message);
            throw new RpcException(new Status(StatusCode.Internal, $"{method.FullName}: {e.Message}", e));
        }
    }

    /// <summary>
    /// <see cref="ReplyCodec.Read(ref RpalMessage, out Metadata?, out Metadata?, out ReadOnlySpan{byte})"/>, and a successful reply whose body is larger than
    /// <see cref="MaxReceive"/> as ResourceExhausted (its body is not read).
    /// </summary>
    internal Status ParseReply(ref RpalMessage reply, RpalMethod method, out Metadata? trailers, out Metadata? headers, out ReadOnlySpan<byte> body)
    {
        Status status = ReplyCodec.Read(ref reply, out trailers, out headers, out body);
        if (status.StatusCode == StatusCode.OK && (ulong)body.Length > MaxReceive && ReplyCodec.HasPayload(in reply))
        {
            status = RpalLimits.TooLargeReceived("reply", method.FullName, (ulong)body.Length, MaxReceive, "RpalChannelOptions.MaxReceiveMessageSize");
            body = default;
        }

        return status;
    }
}
