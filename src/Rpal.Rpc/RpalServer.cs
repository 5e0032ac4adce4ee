using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rpal.Rpc.Diagnostics;
using Rpal.Rpc.Generated;
using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>
/// Serves [RpalService] implementations to other processes on this host.
/// </summary>
/// <example>
/// <code>
/// await using var server = new RpalServer();
/// server.AddService&lt;ICalculator&gt;(new Calculator());
/// await server.StartAsync();
/// </code>
/// </example>
public sealed class RpalServer : IAsyncDisposable
{
    private readonly List<HostedService> _services = [];
    private readonly ConcurrentDictionary<ulong, ServerConnection> _connections = new();
    private readonly Lock _lock = new();
    private readonly Lock _listenerLock = new(); // the listeners between the registration check and StopAsync
    private RpalReceiver[] _receivers = [];
    private volatile bool _stopping;
    private int _nextReceiver;
    private long _nextToken;
    private int _state; // 0 new, 1 started, 2 stopped
    private TaskCompletionSource? _drained;
    private ILogger _logger = NullLogger.Instance;
    private ILoggerFactory? _loggerFactory;
    private Timer? _registrationCheck;

    /// <summary>Creates a server with default options.</summary>
    public RpalServer()
        : this(new RpalServerOptions())
    {
    }

    /// <summary>Creates a server.</summary>
    public RpalServer(RpalServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReceiverThreads, 1);
        Options = options;
    }

    /// <summary>The server's options.</summary>
    public RpalServerOptions Options { get; }

    /// <summary>How often the server checks that its services are still registered (see <see cref="StartAsync"/>).</summary>
    internal static TimeSpan RegistrationCheckInterval { get; } = TimeSpan.FromSeconds(1);

    /// <summary>How long StopAsync waits for its receiver threads to finish, once the calls are answered or given up on.</summary>
    internal static TimeSpan ReceiverStopTimeout { get; } = TimeSpan.FromMilliseconds(500);

    /// <summary><see cref="RpalServerOptions.MaxReceiveMessageSize"/> as of StartAsync; no limit is <see cref="ulong.MaxValue"/>.</summary>
    internal ulong MaxReceive { get; private set; } = ulong.MaxValue;

    /// <summary><see cref="RpalServerOptions.MaxSendMessageSize"/> as of StartAsync; no limit is <see cref="ulong.MaxValue"/>.</summary>
    internal ulong MaxSend { get; private set; } = ulong.MaxValue;

    /// <summary><see cref="RpalServerOptions.MaxConcurrentCallsPerConnection"/> as of StartAsync; no limit is <see cref="int.MaxValue"/>.</summary>
    internal int MaxCallsPerConnection { get; private set; } = int.MaxValue;

    /// <summary>Clients connected now, over all services (a connection leaves once its client is gone and its calls are answered).</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>The connections now (for the metrics' observable instruments).</summary>
    internal ICollection<ServerConnection> Connections => _connections.Values;

    /// <summary>The names of the services added (fixed once started).</summary>
    internal IEnumerable<string> AddedServiceNames => _services.Select(s => s.Descriptor.ServiceName);

    /// <summary>The server's logger (<see cref="RpalServerOptions.LoggerFactory"/> as of StartAsync).</summary>
    internal ILogger Logger => _logger;

    /// <summary>
    /// Raised when an answer could not be sent, or a handler's cancellation callback threw.
    /// The server goes on.
    /// </summary>
    public event Action<Exception>? HandlerError;

    /// <summary>Adds an implementation of the [RpalService] interface <typeparamref name="TService"/>.</summary>
    /// <param name="implementation">The object that serves the calls.</param>
    /// <param name="options">Who may connect to this service and how many at once; null: the server's options.</param>
    /// <exception cref="InvalidOperationException">The server already started, or the service was added before.</exception>
    public void AddService<TService>(TService implementation, RpalServiceOptions? options = null)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(implementation);
        RpalServiceDescriptor<TService> descriptor = RpalServiceRegistry.Get<TService>();
        Add(descriptor, descriptor.CreateDispatcher(implementation), options);
    }

    private void Add(RpalServiceDescriptor descriptor, RpalServiceDispatcher dispatcher, RpalServiceOptions? options = null)
    {
        if (options is not null)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(options.MaxConnections, "options.MaxConnections");
        }

        lock (_lock)
        {
            if (_state != 0)
            {
                throw new InvalidOperationException("Services are added before StartAsync.");
            }

            if (_services.Exists(s => s.Descriptor.ServiceName == descriptor.ServiceName))
            {
                throw new InvalidOperationException($"The service '{descriptor.ServiceName}' was already added.");
            }

            _services.Add(new HostedService(descriptor, dispatcher, options));
        }
    }

    /// <summary>
    /// Adds the services of a gRPC <see cref="Grpc.Core.ServerServiceDefinition"/>, as made by a
    /// protoc-generated <c>BindService</c>: each is registered under its gRPC service name
    /// (<c>package.Service</c>), its handlers wrapped in <see cref="RpalServerOptions.Interceptors"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server already started, or a service was added before.</exception>
    public void AddService(Grpc.Core.ServerServiceDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var binder = new GrpcInterop.GrpcServiceBinder(Options.Interceptors);
        definition.BindService(binder);
        foreach ((string name, List<RpalMethod> methods, Dictionary<uint, Action<RpalServerCall>> handlers) in binder.Services)
        {
            Add(new GrpcInterop.GrpcServiceDescriptor(name, methods), new GrpcInterop.GrpcServiceDispatcher(handlers));
        }
    }

    /// <summary>
    /// Registers the services and starts serving. From then on the server checks once a second
    /// that its services are still registered: when the runtime directory, or a service's entry
    /// in it, was removed or replaced (an <c>rm -rf</c> of the directory, say), it makes them again
    /// and registers the service anew (logging RegistrationRestored), unless another live process
    /// took the name meanwhile (logging RegistrationLost and trying again each second).
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// No service was added; another live process already serves one of the names; or the engine
    /// cannot start or register here (a runtime directory that is not private to this user, say),
    /// the message saying why and naming the directory, the engine's
    /// <see cref="RpalException"/> as the inner exception.
    /// </exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (_state != 0)
            {
                throw new InvalidOperationException("The server was already started.");
            }

            if (_services.Count == 0)
            {
                throw new InvalidOperationException("Add at least one service before StartAsync.");
            }

            ArgumentOutOfRangeException.ThrowIfNegative(Options.MaxConnectionsPerService, "Options.MaxConnectionsPerService");
            ArgumentOutOfRangeException.ThrowIfNegative(Options.MaxConcurrentCallsPerConnection, "Options.MaxConcurrentCallsPerConnection");
            MaxReceive = RpalLimits.Effective(Options.MaxReceiveMessageSize, "Options.MaxReceiveMessageSize");
            MaxSend = RpalLimits.Effective(Options.MaxSendMessageSize, "Options.MaxSendMessageSize");
            MaxCallsPerConnection = Options.MaxConcurrentCallsPerConnection == 0 ? int.MaxValue : Options.MaxConcurrentCallsPerConnection;
            try
            {
                RpalEngine.Start();
            }
            catch (RpalException e)
            {
                throw new InvalidOperationException($"Cannot start the server: the engine cannot start in this process: {e.Message}", e);
            }

            _loggerFactory = Options.LoggerFactory;
            EngineLogRoute.Attach(_loggerFactory); // the engine's reasons for a failed registration too
            string registering = "";
            try
            {
                foreach (HostedService service in _services)
                {
                    registering = service.Descriptor.ServiceName;
                    service.Listener = service.Options is { } own
                        ? RpalServiceListener.Register(registering, own.AllowedPeers, own.MaxConnections)
                        : RpalServiceListener.Register(registering, Options.AllowedPeers, Options.MaxConnectionsPerService);
                }
            }
            catch (RpalException e)
            {
                foreach (HostedService service in _services)
                {
                    service.Listener?.Dispose();
                    service.Listener = null;
                }

                EngineLogRoute.Detach(_loggerFactory);
                string why = e.Errno == RpalErrno.EADDRINUSE ? "another live process serves it" : e.Message;
                throw new InvalidOperationException($"Cannot register the service '{registering}': {why}.", e);
            }

            _logger = ContainedLogger.Create(_loggerFactory ?? NullLoggerFactory.Instance, RpalLog.ServerCategory);
            var handler = new ReceiverHandler(this);
            _receivers = new RpalReceiver[Options.ReceiverThreads];
            for (int i = 0; i < _receivers.Length; i++)
            {
                _receivers[i] = new RpalReceiver(handler, $"rpal-server-{i}");
            }

            foreach (HostedService service in _services)
            {
                _receivers[0].Add(service.Listener!, listener => Accept(service, listener));
            }

            _state = 1;
            _registrationCheck = new Timer(static s => ((RpalServer)s!).CheckRegistrations(), this, RegistrationCheckInterval, RegistrationCheckInterval);
            RpalMetrics.Track(this);
            if (_logger.IsEnabled(LogLevel.Information))
            {
                string names = ServiceNames();
                RpalLog.ServerStarted(_logger, names, _receivers.Length);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops accepting, lets calls in flight finish for the grace period, then cancels them,
    /// and closes every connection. Returns within <see cref="RpalServerOptions.ShutdownGracePeriod"/>
    /// + 1.5 s whatever the handlers do: after the grace period it cancels the tokens of the calls
    /// still running and waits up to 1 s more; a handler still running then (one that blocks, or
    /// ignores its token) is abandoned: it is logged (HandlerAbandoned, with its method and how long
    /// it has run) and counted (rpal.server.calls.abandoned), and its connection is closed, so its
    /// client sees <see cref="Grpc.Core.StatusCode.Unavailable"/> rather than waiting. StopAsync
    /// then waits up to 0.5 s for the receiver threads; one blocked in a handler cannot be aborted
    /// and is left running (a background thread: it does not keep the process alive), and the
    /// native connections it may still touch are released only once it returns, so that nothing
    /// is freed under it. An abandoned handler that returns later finds its connection closed:
    /// its answer goes nowhere.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_state != 1)
            {
                _state = 2;
                return;
            }

            _state = 2;
            _stopping = true;
            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        _registrationCheck?.Dispose();
        lock (_listenerLock)
        {
            foreach (HostedService service in _services)
            {
                service.Listener?.Dispose();
                service.Listener = null;
            }
        }

        if (TotalInFlight() > 0)
        {
            Task grace = Task.Delay(Options.ShutdownGracePeriod, cancellationToken);
            await Task.WhenAny(_drained.Task, grace).ConfigureAwait(false);
            if (TotalInFlight() > 0)
            {
                foreach (ServerConnection c in _connections.Values)
                {
                    c.CancelAll();
                }

                await Task.WhenAny(_drained.Task, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None)).ConfigureAwait(false);
            }

            ReportAbandoned();
        }

        // Each receiver runs the work already queued to it, then takes its connections out of
        // its set. One blocked in a handler never gets there: do not wait for it beyond the
        // timeout (a thread cannot be aborted).
        foreach (RpalReceiver receiver in _receivers)
        {
            receiver.Stop(TimeSpan.Zero);
        }

        long stopDeadline = Environment.TickCount64 + (long)ReceiverStopTimeout.TotalMilliseconds;
        bool allStopped = true;
        foreach (RpalReceiver receiver in _receivers)
        {
            long left = Math.Max(0, stopDeadline - Environment.TickCount64);
            allStopped &= receiver.Stop(TimeSpan.FromMilliseconds(left));
        }

        foreach (ServerConnection c in _connections.Values)
        {
            if (!allStopped || c.InFlight > 0)
            {
                // The client must see the end now. Dispose alone would release the native
                // connection on its receiver's thread, which a blocked handler holds: until it
                // returns, the native connection stays (valid for the handler), only disconnected.
                c.Connection.Shutdown();
            }

            c.Connection.Dispose();
        }

        _connections.Clear();
        RpalMetrics.Untrack(this);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            string names = ServiceNames();
            RpalLog.ServerStopped(_logger, names);
        }

        EngineLogRoute.Detach(_loggerFactory);
    }

    /// <summary>Logs and counts the calls still running once StopAsync stops waiting for them.</summary>
    private void ReportAbandoned()
    {
        long now = Environment.TickCount64;
        foreach (ServerConnection c in _connections.Values)
        {
            if (c.InFlight == 0)
            {
                continue;
            }

            foreach ((string method, long startedAtMs) in c.RunningCalls())
            {
                RpalLog.HandlerAbandoned(_logger, method, now - startedAtMs);
                RpalMetrics.ServerCallAbandoned(c.ServiceName, method[(method.LastIndexOf('/') + 1)..]);
            }
        }
    }

    /// <summary>
    /// The timer's check that each service is still registered (the runtime directory or its
    /// entry may have been removed); logs when it restored one, or when it cannot.
    /// </summary>
    private void CheckRegistrations()
    {
        lock (_listenerLock) // StopAsync disposes the listeners under it
        {
            foreach (HostedService service in _services)
            {
                if (service.Listener is not { } listener)
                {
                    continue;
                }

                int rc = listener.CheckRegistration(out string? reason);
                if (rc == 1)
                {
                    RpalLog.RegistrationRestored(_logger, service.Descriptor.ServiceName);
                }
                else if (rc < 0 && rc != -RpalErrno.EBADF && rc != service.LastRegistrationError)
                {
                    RpalLog.RegistrationLost(_logger, service.Descriptor.ServiceName, reason ?? RpalErrno.GetName(rc));
                }

                service.LastRegistrationError = rc < 0 ? rc : 0;
            }
        }
    }

    private string ServiceNames() => string.Join(", ", _services.Select(s => s.Descriptor.ServiceName));

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    internal void ReportHandlerError(Exception e)
    {
        RpalLog.ServerError(_logger, e);
        HandlerError?.Invoke(e);
    }

    internal void OnCallsDrained()
    {
        if (_stopping && TotalInFlight() == 0)
        {
            _drained?.TrySetResult();
        }
    }

    private int TotalInFlight()
    {
        int n = 0;
        foreach (ServerConnection c in _connections.Values)
        {
            n += c.InFlight;
        }

        return n;
    }

    /// <summary>Takes the waiting clients of a service (on receiver 0) and spreads them over the receivers.</summary>
    private void Accept(HostedService service, RpalServiceListener listener)
    {
        long refused = listener.RefusedCount;
        while (!_stopping && listener.TryAccept(out RpalConnection? connection))
        {
            ulong token = (ulong)Interlocked.Increment(ref _nextToken);
            var c = new ServerConnection(this, service, connection);
            _connections[token] = c;
            c.LogConnected();
            _receivers[_nextReceiver++ % _receivers.Length].Add(connection, token);
        }

        // a refusal (a limit, access, a bad handshake) ends the loop; the engine logged its reason
        if (listener.RefusedCount != refused)
        {
            RpalMetrics.ServerConnectionsRefused(service.Descriptor.ServiceName, listener.RefusedCount - refused);
        }
    }

    /// <summary>Runs each receiver's events through the connection they belong to.</summary>
    private sealed class ReceiverHandler(RpalServer server) : IRpalReceiverHandler
    {
        public void OnEvents(RpalConnection connection, ulong token, uint events)
        {
            if (!server._connections.TryGetValue(token, out ServerConnection? c))
            {
                return;
            }

            if ((events & RpalEpollEvents.RpalIn) != 0)
            {
                c.OnReadable();
            }

            if ((events & RpalEpollEvents.RpalHangup) != 0 && server._connections.TryRemove(token, out _))
            {
                c.OnHangUp(); // disposes the connection once its calls are answered
            }
        }
    }
}
