// The server process of Rpal.Rpc.Tests.
//
//   dotnet Rpal.Rpc.TestServer.dll SERVICE... [--receivers N] [--grace-ms N] [--detailed-errors] [--http2 SOCKET]
//
// Serves the named services (Rpal.Rpc.TestContracts.ServiceNames; a service's name is fixed by
// its [RpalService] attribute, so the names choose which contracts to serve), writes "ready" on
// stdout, then reads commands from stdin until it closes (ServerEvents): "stop" calls StopAsync
// and writes "stopped MS" when it returns; "release TAG" lets a held call return. If the
// services cannot be registered it writes "error MESSAGE" and exits with 3.
//
// Options: --allow-uid N / --allow-gid N (RpalServerOptions.AllowedPeers), --max-connections N;
// limits (BackpressureTests): --max-receive N / --max-send N (RpalServerOptions.MaxReceiveMessageSize /
// MaxSendMessageSize, "none" for no limit), --max-calls-per-connection N.
// --observe (LoggingTests, MetricsTests): the server's log entries and metrics on stdout
// (Observer); the command "observe" then reads the observable instruments.
// --throwing-stderr / --throwing-logger (LogSinkFailureTests): Console.Error, or the server's
// logger factory, throws on every write (ThrowingLogs).
//
// Host mode: "host SERVICE... [--settings FILE]" runs the services in a generic host through
// AddRpalServer (HostMode.cs, HostingTests).
//
// Client modes: "stream-client TAG", "stream-reader N" (StreamClient) and "crash-client TAG"
// (CrashClient), processes that tests kill or stop; "access-client [--trust-uid N] [--trust-gid N]
// [--hold]" (AccessClient); "connect-client [--retry-ms N]" (ConnectClient).

using System.Diagnostics;
using System.Globalization;
using Rpal.Rpc;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.TestServer;

if (args is ["stream-client", string clientTag])
{
    // The client side of StreamingClientDeathTests: holds a client-streaming call open on the shared
    // server's streaming service until the test kills this process.
    return await StreamClient.RunAsync(int.Parse(clientTag, CultureInfo.InvariantCulture));
}

if (args is ["stream-reader", string streams])
{
    // A client of BoundedWaitTests that reads server streams until the test stops it.
    return await StreamClient.RunReaderAsync(int.Parse(streams, CultureInfo.InvariantCulture));
}

if (args is ["host", .. var hostArgs])
{
    return await HostMode.RunAsync(hostArgs);
}

if (args is ["access-client", .. var accessArgs])
{
    // The client side of AccessControlTests, run as another user or with other groups.
    return await AccessClient.RunAsync(accessArgs);
}

if (args is ["connect-client", .. var connectArgs])
{
    // The client side of RuntimeDirectoryTests, in a runtime directory of the test's choosing.
    return await ConnectClient.RunAsync(connectArgs);
}

if (args is ["crash-client", string crashTag])
{
    // The client side of CrashClientKilledTests: calls the crash-clients service, then waits to be killed.
    return await CrashClient.RunAsync(int.Parse(crashTag, CultureInfo.InvariantCulture));
}

var services = new List<string>();
var options = new RpalServerOptions();
string? http2 = null;
System.Diagnostics.Metrics.MeterListener? observer = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--receivers":
            options.ReceiverThreads = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--grace-ms":
            options.ShutdownGracePeriod = TimeSpan.FromMilliseconds(int.Parse(args[++i], CultureInfo.InvariantCulture));
            break;
        case "--detailed-errors":
            options.EnableDetailedErrors = true;
            break;
        case "--http2":
            http2 = args[++i];
            break;
        case "--allow-uid":
            options.AllowedPeers.UserIds.Add(uint.Parse(args[++i], CultureInfo.InvariantCulture));
            break;
        case "--allow-gid":
            options.AllowedPeers.GroupIds.Add(uint.Parse(args[++i], CultureInfo.InvariantCulture));
            break;
        case "--max-receive":
            options.MaxReceiveMessageSize = ParseLimit(args[++i]);
            break;
        case "--max-send":
            options.MaxSendMessageSize = ParseLimit(args[++i]);
            break;
        case "--max-calls-per-connection":
            options.MaxConcurrentCallsPerConnection = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--max-connections":
            options.MaxConnectionsPerService = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--throwing-stderr":
            Console.SetError(new ThrowingLogs.Writer());
            break;
        case "--throwing-logger":
            options.LoggerFactory = new ThrowingLogs.LoggerFactory();
            break;
        case "--observe":
            options.LoggerFactory = new EventLoggerFactory();
            observer = Observer.StartListening();
            break;
        default:
            services.Add(args[i]);
            break;
    }
}

if (services.Count == 0)
{
    Console.Error.WriteLine("usage: Rpal.Rpc.TestServer SERVICE... [--receivers N] [--grace-ms N] [--detailed-errors] [--http2 SOCKET]");
    return 2;
}

options.Interceptors.Add(new TrailerInterceptor()); // around the gRPC services (Compat)
var server = new RpalServer(options);
server.HandlerError += e => Console.Error.WriteLine($"handler error: {e}");
var probe = new ProcessProbe();
var crossHost = new CrossHostService();
var crash = new CrashProbe(server);
foreach (string name in services)
{
    switch (name)
    {
        case ServiceNames.Shapes: server.AddService<IMethodShapes>(new MethodShapes()); break;
        case ServiceNames.Types: server.AddService<ITypeRoundTrip>(new TypeRoundTrip()); break;
        case ServiceNames.Protobuf: server.AddService<IProtobufService>(new ProtobufService()); break;
        case ServiceNames.Status: server.AddService<IStatusService>(new StatusService()); break;
        case ServiceNames.DetailedErrors: server.AddService<IDetailedErrorService>(new DetailedErrorService()); break;
        case ServiceNames.Cancellation: server.AddService<ICancellationService>(new CancellationService()); break;
        case ServiceNames.Metadata: server.AddService<IMetadataService>(new MetadataService()); break;
        case ServiceNames.ZeroCopy: server.AddService<IZeroCopyService>(new ZeroCopyService()); break;
        case ServiceNames.Concurrency: server.AddService<IConcurrencyService>(new ConcurrencyService()); break;
        case ServiceNames.Kill: server.AddService<IKillTarget>(probe); break;
        case ServiceNames.Lifecycle: server.AddService<ILifecycleTarget>(probe); break;
        case ServiceNames.Allocation: server.AddService<IAllocationProbe>(new AllocationProbe()); break;
        case ServiceNames.Streaming: server.AddService<IStreamingService>(new StreamingService()); break;
        case ServiceNames.Backpressure: server.AddService<IBackpressureService>(new BackpressureService()); break;
        case ServiceNames.CallbackA: server.AddService<ICallbackA>(new CallbackProbe<ICallbackB>(ServiceNames.CallbackB)); break;
        case ServiceNames.CrossHost: server.AddService<ICrossHostService>(crossHost); break;
        case ServiceNames.CrashServer: server.AddService<ICrashServerTarget>(crash); break;
        case ServiceNames.CrashClients: server.AddService<ICrashClientsTarget>(crash); break;
        case ServiceNames.CrashRegistry: server.AddService<ICrashRegistryTarget>(crash); break;
        case ServiceNames.Compat:
            server.AddService(Rpal.Rpc.TestContracts.Compat.Calculator.BindService(new CompatCalculator()));
            break;
        case ServiceNames.CompatRelay:
            server.AddService(Rpal.Rpc.TestContracts.Compat.Relay.BindService(new CompatRelay()));
            break;
        case ServiceNames.Interop:
            server.AddService(Grpc.Testing.TestService.BindService(new InteropTestService()));
            break;
        default:
            Console.Error.WriteLine($"unknown service '{name}'");
            return 2;
    }
}

try
{
    await server.StartAsync();
}
catch (InvalidOperationException e)
{
    Events.Write($"{ServerEvents.Error} {e.Message}");
    return 3;
}

// The same implementation over HTTP/2, for the CrossHost tests.
Microsoft.AspNetCore.Builder.WebApplication? web = http2 is null ? null : await Http2Host.StartAsync(http2, crossHost);

Events.Write(ServerEvents.Ready);

Task stopping = Task.CompletedTask;
while (await Console.In.ReadLineAsync() is { } line)
{
    string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    switch (words)
    {
        case [ServerEvents.Stop]:
            // not awaited: "release" must still be read while StopAsync waits for held calls
            stopping = StopAsync(server);
            break;
        case [ServerEvents.Release, var tag]:
            Holds.Release(int.Parse(tag, CultureInfo.InvariantCulture));
            break;
        case ["observe"]:
            observer?.RecordObservableInstruments();
            Events.Write("observed");
            break;
        default:
            Console.Error.WriteLine($"unknown command '{line}'");
            break;
    }
}

await stopping;
await server.DisposeAsync();
if (web is not null)
{
    await web.StopAsync();
}
return 0;

static async Task StopAsync(RpalServer server)
{
    Events.Write(ServerEvents.Stopping);
    long start = Stopwatch.GetTimestamp();
    await server.StopAsync();
    Events.Write($"{ServerEvents.Stopped} {(long)Stopwatch.GetElapsedTime(start).TotalMilliseconds}");
}

static int? ParseLimit(string value) =>
    value == "none" ? null : int.Parse(value, CultureInfo.InvariantCulture);
