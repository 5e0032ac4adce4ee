namespace Rpal.Rpc.TestContracts;

/// <summary>
/// The names the test services are registered under. A service's name is fixed by its
/// [RpalService] attribute at compile time, so tests that need a server of their own (killed,
/// restarted, stopped) use a contract of their own; Rpal.Rpc.TestServer hosts the names given
/// on its command line.
/// </summary>
public static class ServiceNames
{
    public const string Shapes = "rpal.test.shapes";
    public const string Types = "rpal.test.types";
    public const string Protobuf = "rpal.test.protobuf";
    public const string Status = "rpal.test.status";
    public const string DetailedErrors = "rpal.test.detailed-errors";
    public const string Cancellation = "rpal.test.cancellation";
    public const string Metadata = "rpal.test.metadata";
    public const string ZeroCopy = "rpal.test.zero-copy";
    public const string Concurrency = "rpal.test.concurrency";
    public const string Kill = "rpal.test.kill";
    public const string Lifecycle = "rpal.test.lifecycle";

    /// <summary>The allocation probe (<see cref="IAllocationProbe"/>).</summary>
    public const string Allocation = "rpal.test.allocation";

    /// <summary>The protoc-generated service of the GrpcCompat tests (its gRPC name).</summary>
    public const string Compat = "rpal.test.compat.Calculator";

    /// <summary>gRPC's interoperability test service, protoc-generated (the GrpcInterop tests; its gRPC name).</summary>
    public const string Interop = "grpc.testing.TestService";

    /// <summary>The relay of the GrpcInterop propagation tests (its gRPC name), in a process of its own.</summary>
    public const string CompatRelay = "rpal.test.compat.Relay";

    /// <summary>The contract served over Rpal and over HTTP/2 (<see cref="ICrossHostService"/>).</summary>
    public const string CrossHost = "rpal.test.crosshost";

    /// <summary>The streaming shapes (<see cref="IStreamingService"/>).</summary>
    public const string Streaming = "rpal.test.streaming";

    /// <summary>The server that CrashServerKilledTests kills with calls in flight (<see cref="ICrashServerTarget"/>).</summary>
    public const string CrashServer = "rpal.test.crash.server";

    /// <summary>The server whose client processes CrashClientKilledTests kills (<see cref="ICrashClientsTarget"/>).</summary>
    public const string CrashClients = "rpal.test.crash.clients";

    /// <summary>The name CrashRegistryTests leaves stale and races for (<see cref="ICrashRegistryTarget"/>).</summary>
    public const string CrashRegistry = "rpal.test.crash.registry";

    /// <summary>The limits and backpressure service (<see cref="IBackpressureService"/>); started per test class with its limits.</summary>
    public const string Backpressure = "rpal.test.backpressure";

    /// <summary>The service a child process serves in BlockedHandlerTests (<see cref="ICallbackA"/>).</summary>
    public const string CallbackA = "rpal.test.callback.a";

    /// <summary>The service the test process serves in BlockedHandlerTests (<see cref="ICallbackB"/>).</summary>
    public const string CallbackB = "rpal.test.callback.b";

    /// <summary>The services of the server that most test classes share.</summary>
    public static readonly IReadOnlyList<string> Shared =
        [Shapes, Types, Protobuf, Status, Cancellation, Metadata, ZeroCopy, Concurrency, Allocation, Compat, Streaming, Interop];
}
