using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Runtime;

namespace Rpal.Rpc.Diagnostics;

/// <summary>
/// The metrics of Rpal: one <see cref="Meter"/> named <see cref="MeterName"/>, its instruments
/// named as docs/observability.md lists them (OpenTelemetry RPC conventions: <c>rpc.system</c>,
/// <c>rpc.service</c>, <c>rpc.method</c>, <c>rpc.grpc.status_code</c>). Watch them with
/// <c>dotnet-counters monitor -n PROCESS --counters Rpal</c>, or add the meter to OpenTelemetry
/// with <c>.AddMeter("Rpal")</c>.
/// </summary>
public static class RpalMetrics
{
    /// <summary>The name of Rpal's <see cref="Meter"/>.</summary>
    public const string MeterName = "Rpal";

    private const string System = "rpal";
    private const string UnknownMethod = "_OTHER";

    // The tags' values: strings are the method's own, status codes boxed once here. A TagList of
    // four holds them inline, so recording allocates nothing.
    private static readonly object[] s_codes = Enumerable.Range(0, 17).Select(i => (object)i).ToArray();
    private static readonly object s_client = "client", s_server = "server";
    private static readonly object s_requestOut = "request_out", s_controlOut = "control_out",
        s_requestIn = "request_in", s_controlIn = "control_in";

    private static readonly ConcurrentDictionary<RpalChannel, byte> s_channels = new();
    private static readonly ConcurrentDictionary<RpalServer, byte> s_servers = new();

    private static readonly Meter s_meter = new(MeterName, typeof(RpalMetrics).Assembly.GetName().Version?.ToString());

    // Bucket bounds for call durations: a call takes a microsecond or two, a slow one seconds.
    private static readonly InstrumentAdvice<double> s_durationAdvice = new()
    {
        HistogramBucketBoundaries =
        [
            0.000_001, 0.000_002, 0.000_005, 0.000_01, 0.000_02, 0.000_05, 0.000_1, 0.000_2, 0.000_5,
            0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10,
        ],
    };

    private static readonly Counter<long> s_clientStarted = s_meter.CreateCounter<long>(
        "rpal.client.calls.started", "{call}", "Calls started by this process's clients.");

    private static readonly Counter<long> s_clientCompleted = s_meter.CreateCounter<long>(
        "rpal.client.calls.completed", "{call}", "Calls of this process's clients that ended, by status (OK included).");

    private static readonly Counter<long> s_clientFailed = s_meter.CreateCounter<long>(
        "rpal.client.calls.failed", "{call}", "Calls of this process's clients that ended with a status other than OK.");

    private static readonly Histogram<double> s_clientDuration = s_meter.CreateHistogram(
        "rpal.client.call.duration", "s", "From the call's start until its status is known, as the caller sees it.",
        tags: null, advice: s_durationAdvice);

    private static readonly Counter<long> s_serverStarted = s_meter.CreateCounter<long>(
        "rpal.server.calls.started", "{call}", "Calls this process's servers took in.");

    private static readonly Counter<long> s_serverCompleted = s_meter.CreateCounter<long>(
        "rpal.server.calls.completed", "{call}", "Calls this process's servers answered, by status (OK included).");

    private static readonly Counter<long> s_serverFailed = s_meter.CreateCounter<long>(
        "rpal.server.calls.failed", "{call}", "Calls this process's servers answered with a status other than OK.");

    private static readonly Histogram<double> s_serverDuration = s_meter.CreateHistogram(
        "rpal.server.call.duration", "s", "From the request's arrival until its answer is sent.",
        tags: null, advice: s_durationAdvice);

    private static readonly Counter<long> s_serverAbandoned = s_meter.CreateCounter<long>(
        "rpal.server.calls.abandoned", "{call}", "Calls whose handler was still running when StopAsync gave up on it (their connection was closed).");

    private static readonly Counter<long> s_serverRefused = s_meter.CreateCounter<long>(
        "rpal.server.connections.refused", "{connection}",
        "Clients this process's servers refused: limits (connections, arena, file descriptors), access, malformed or silent handshakes.");

    static RpalMetrics()
    {
        s_meter.CreateObservableUpDownCounter("rpal.client.calls.in_flight", ObserveClientInFlight, "{call}",
            "Calls this process's channels have in flight, from the submit until the server's answer arrives.");
        s_meter.CreateObservableUpDownCounter("rpal.server.calls.in_flight", ObserveServerInFlight, "{call}",
            "Calls this process's servers have taken in and not answered yet.");
        s_meter.CreateObservableUpDownCounter("rpal.server.connections", ObserveServerConnections, "{connection}",
            "Clients connected to this process's servers.");
        s_meter.CreateObservableCounter("rpal.connection.messages.sent", () => ObserveStats(static s => (long)s.Sent), "{message}",
            "Descriptors published by this process's live connections: requests, one-way messages, replies, releases.");
        s_meter.CreateObservableCounter("rpal.connection.messages.received", () => ObserveStats(static s => (long)s.Received), "{message}",
            "Descriptors this process's live connections took from their peers' rings, rejected ones included.");
        s_meter.CreateObservableCounter("rpal.connection.messages.rejected", () => ObserveStats(static s => (long)s.Rejected), "{message}",
            "Descriptors from peers that the engine rejected as malformed or meaningless.");
        s_meter.CreateObservableCounter("rpal.connection.waits.spun", () => ObserveStats(static s => (long)s.Spins), "{wait}",
            "Calls whose reply arrived while the caller spun: blocking calls, and awaited calls completed on the caller's thread.");
        s_meter.CreateObservableCounter("rpal.connection.waits.parked", () => ObserveStats(static s => (long)s.Parks), "{wait}",
            "Sleeps in the kernel: wait slices of blocking calls, sleeps of an epoll wait holding the connection.");
        s_meter.CreateObservableCounter("rpal.connection.wakeups", () => ObserveStats(static s => (long)s.Wakeups), "{wakeup}",
            "Wake-ups this process sent to a parked peer.");
        s_meter.CreateObservableUpDownCounter("rpal.connection.lent_bytes", () => ObserveStats(static s => (long)s.LentBytes), "By",
            "Bytes of this process's arena its peers hold now.");
        s_meter.CreateObservableUpDownCounter("rpal.connection.ring.queued", ObserveRings, "{message}",
            "Descriptors waiting in the live connections' rings: published and not taken yet (rpal.ring: request_out, control_out, request_in, control_in).");
        s_meter.CreateObservableCounter("rpal.receiver.takeovers", static () => RpalReceiver.TotalTakeovers, "{takeover}",
            "Times a receiver went on on another thread because a callback blocked its thread (a handler that slept, waited on a result or made a synchronous call).");
        s_meter.CreateObservableCounter("rpal.client.continuations.rescued", static () => CallContinuations.Rescued, "{continuation}",
            "Continuations of awaited calls that waited 20 ms for a thread-pool thread and ran on the client's completion thread instead (a starved pool).");
    }

    // ---- client calls --------------------------------------------------------------------

    /// <summary>
    /// A client call starts: 0 when nobody listens to the client's call instruments (the hot
    /// path's whole cost then), else the start's timestamp, which <see cref="ClientCallEnded"/> takes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long ClientCallStarting(RpalMethod method)
    {
        if (!s_clientStarted.Enabled && !s_clientCompleted.Enabled && !s_clientDuration.Enabled && !s_clientFailed.Enabled)
        {
            return 0;
        }

        return ClientCallStartingObserved(method);
    }

    private static long ClientCallStartingObserved(RpalMethod method)
    {
        if (s_clientStarted.Enabled)
        {
            TagList tags = Tags(method.ServiceName, method.Name);
            s_clientStarted.Add(1, in tags);
        }

        return Stopwatch.GetTimestamp();
    }

    /// <summary>A client call ended with <paramref name="code"/> (nothing when <paramref name="started"/> is 0).</summary>
    internal static void ClientCallEnded(RpalMethod method, StatusCode code, long started)
    {
        if (started != 0)
        {
            Ended(s_clientCompleted, s_clientFailed, s_clientDuration, method.ServiceName, method.Name, code, started);
        }
    }

    /// <summary>
    /// For an exception filter: records a client call that failed with <paramref name="e"/>,
    /// returns false (the exception goes on).
    /// </summary>
    internal static bool ClientCallFailed(RpalMethod method, Exception e, long started)
    {
        ClientCallEnded(method, CodeOf(e), started);
        return false;
    }

    internal static StatusCode CodeOf(Exception e) => e switch
    {
        RpcException r => r.StatusCode,
        OperationCanceledException => StatusCode.Cancelled,
        _ => StatusCode.Unknown,
    };

    // ---- server calls --------------------------------------------------------------------

    /// <summary>True when someone listens to the server's call instruments.</summary>
    internal static bool ServerCallsObserved =>
        s_serverStarted.Enabled || s_serverCompleted.Enabled || s_serverDuration.Enabled || s_serverFailed.Enabled;

    /// <summary>As <see cref="ClientCallStarting"/>, for a call a server took in.</summary>
    internal static long ServerCallStarting(RpalMethod? method, string service)
    {
        if (!s_serverStarted.Enabled && !s_serverCompleted.Enabled && !s_serverDuration.Enabled && !s_serverFailed.Enabled)
        {
            return 0;
        }

        return ServerCallStartingObserved(method, service);
    }

    private static long ServerCallStartingObserved(RpalMethod? method, string service)
    {
        if (s_serverStarted.Enabled)
        {
            TagList tags = Tags(service, method?.Name ?? UnknownMethod);
            s_serverStarted.Add(1, in tags);
        }

        return Stopwatch.GetTimestamp();
    }

    /// <summary>A server call was answered with <paramref name="code"/> (nothing when <paramref name="started"/> is 0).</summary>
    internal static void ServerCallEnded(RpalMethod? method, string service, StatusCode code, long started)
    {
        if (started != 0)
        {
            Ended(s_serverCompleted, s_serverFailed, s_serverDuration, service, method?.Name ?? UnknownMethod, code, started);
        }
    }

    /// <summary>StopAsync gave up on a call of <paramref name="method"/> (its full name) whose handler still runs.</summary>
    internal static void ServerCallAbandoned(string service, string method)
    {
        if (s_serverAbandoned.Enabled)
        {
            TagList tags = Tags(service, method);
            s_serverAbandoned.Add(1, in tags);
        }
    }

    private static void Ended(Counter<long> completed, Counter<long> failed, Histogram<double> duration, string service, string method, StatusCode code, long started)
    {
        TagList tags = Tags(service, method);
        tags.Add("rpc.grpc.status_code", (uint)code < (uint)s_codes.Length ? s_codes[(int)code] : (int)code);
        completed.Add(1, in tags);
        if (code != StatusCode.OK)
        {
            failed.Add(1, in tags);
        }

        if (duration.Enabled)
        {
            duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, in tags);
        }
    }

    private static TagList Tags(string service, string method) => new()
    {
        { "rpc.system", System },
        { "rpc.service", service },
        { "rpc.method", method },
    };

    /// <summary>A service refused <paramref name="count"/> clients (the engine told each why; the log says why too).</summary>
    internal static void ServerConnectionsRefused(string service, long count)
    {
        if (s_serverRefused.Enabled)
        {
            s_serverRefused.Add(count, new KeyValuePair<string, object?>("rpc.system", System), new KeyValuePair<string, object?>("rpc.service", service));
        }
    }

    // ---- live channels and servers, for the observable instruments ------------------------

    internal static void Track(RpalChannel channel) => s_channels.TryAdd(channel, 0);

    internal static void Untrack(RpalChannel channel) => s_channels.TryRemove(channel, out _);

    internal static void Track(RpalServer server) => s_servers.TryAdd(server, 0);

    internal static void Untrack(RpalServer server) => s_servers.TryRemove(server, out _);

    private static IEnumerable<Measurement<int>> ObserveClientInFlight()
    {
        var byService = new Dictionary<string, int>();
        foreach (RpalChannel channel in s_channels.Keys)
        {
            byService[channel.ServiceName] = byService.GetValueOrDefault(channel.ServiceName) + channel.Limiter.InFlight;
        }

        return byService.Select(kv => new Measurement<int>(kv.Value, Tag("rpc.service", kv.Key), Tag("rpc.system", System)));
    }

    private static IEnumerable<Measurement<int>> ObserveServerInFlight()
    {
        var byService = new Dictionary<string, int>();
        foreach (RpalServer server in s_servers.Keys)
        {
            foreach (ServerConnection c in server.Connections)
            {
                byService[c.ServiceName] = byService.GetValueOrDefault(c.ServiceName) + c.InFlight;
            }
        }

        return byService.Select(kv => new Measurement<int>(kv.Value, Tag("rpc.service", kv.Key), Tag("rpc.system", System)));
    }

    private static IEnumerable<Measurement<int>> ObserveServerConnections()
    {
        var byService = new Dictionary<string, int>();
        foreach (RpalServer server in s_servers.Keys)
        {
            foreach (ServerConnection c in server.Connections)
            {
                byService[c.ServiceName] = byService.GetValueOrDefault(c.ServiceName) + 1;
            }
        }

        return byService.Select(kv => new Measurement<int>(kv.Value, Tag("rpc.service", kv.Key), Tag("rpc.system", System)));
    }

    /// <summary>Sums one field of the engine's counters over the live connections, by service and side.</summary>
    private static IEnumerable<Measurement<long>> ObserveStats(Func<RpalConnectionStats, long> field)
    {
        var sums = new Dictionary<(string Service, object Side), long>();
        foreach ((string service, object side, RpalConnectionStats stats) in LiveStats())
        {
            sums[(service, side)] = sums.GetValueOrDefault((service, side)) + field(stats);
        }

        return sums.Select(kv => new Measurement<long>(kv.Value,
            Tag("rpc.service", kv.Key.Service), Tag("rpal.side", kv.Key.Side), Tag("rpc.system", System)));
    }

    /// <summary>Descriptors queued in the live connections' rings, by service, side and ring.</summary>
    private static IEnumerable<Measurement<long>> ObserveRings()
    {
        var sums = new Dictionary<(string Service, object Side, object Ring), long>();
        foreach ((string service, object side, RpalConnectionStats stats) in LiveStats())
        {
            Add((service, side, s_requestOut), stats.RequestsOutQueued);
            Add((service, side, s_controlOut), stats.ControlOutQueued + stats.ControlOutBacklog);
            Add((service, side, s_requestIn), stats.RequestsInQueued);
            Add((service, side, s_controlIn), stats.ControlInQueued);
        }

        return sums.Select(kv => new Measurement<long>(kv.Value, Tag("rpc.service", kv.Key.Service),
            Tag("rpal.side", kv.Key.Side), Tag("rpal.ring", kv.Key.Ring), Tag("rpc.system", System)));

        void Add((string, object, object) key, uint value) => sums[key] = sums.GetValueOrDefault(key) + value;
    }

    /// <summary>The engine's counters of every live connection of this process, with its service and side.</summary>
    private static List<(string Service, object Side, RpalConnectionStats Stats)> LiveStats()
    {
        var all = new List<(string, object, RpalConnectionStats)>();
        foreach (RpalChannel channel in s_channels.Keys)
        {
            Add(channel.ServiceName, s_client, channel.Connection);
        }

        foreach (RpalServer server in s_servers.Keys)
        {
            foreach (ServerConnection c in server.Connections)
            {
                Add(c.ServiceName, s_server, c.Connection);
            }
        }

        return all;

        void Add(string service, object side, RpalConnection connection)
        {
            try
            {
                all.Add((service, side, connection.Stats));
            }
            catch (Exception e) when (e is RpalException or ObjectDisposedException)
            {
                // closed meanwhile
            }
        }
    }

    private static KeyValuePair<string, object?> Tag(string key, object value) => new(key, value);
}
