using System.Text.Json;
using Grpc.Core;
using Rpal.Rpc.Diagnostics;
using Rpal.Rpc.Wire;
using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>
/// Calls with method id 0 (docs/wire.md "Introspection"): the server answers them itself, whatever
/// its services, for the rpal tool. Ping answers at once; Stats answers a JSON snapshot of the
/// server: its services, connections, calls in flight, the engine's counters and ring occupancy of
/// its connections, and its calls by method and status with their durations (counted from the
/// process's first Stats request on: <see cref="CallStatistics"/>). Neither runs a handler nor
/// counts as a call in the metrics.
/// </summary>
internal static class Introspection
{
    public static void Answer(ServerConnection connection, in RpalMessage request)
    {
        // Neither reads a payload; a call's request payload goes back with the reply (rpal.h), so
        // there is nothing to release here (a release of it would be refused by its owner).
        RpalMessage reply = IntrospectionCodec.Op(in request) switch
        {
            IntrospectionCodec.OpPing => IntrospectionCodec.Status(StatusCode.OK),
            IntrospectionCodec.OpStats => IntrospectionCodec.EncodeStats(Snapshot(connection.Server)),
            _ => IntrospectionCodec.Status(StatusCode.Unimplemented),
        };

        connection.Connection.Reply(request.Id, in reply); // a client gone: nothing to do
    }

    private static byte[] Snapshot(RpalServer server)
    {
        CallStatistics calls = CallStatistics.Start();
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteNumber("pid", Environment.ProcessId);
            json.WriteNumber("slot", RpalEngine.SlotId);
            json.WriteNumber("receivers", server.Options.ReceiverThreads);
            json.WriteString("calls_counted_since", calls.Since);
            json.WriteStartArray("services");
            ServerConnection[] connections = [.. server.Connections];
            foreach (string name in server.AddedServiceNames)
            {
                WriteService(json, name, [.. connections.Where(c => c.ServiceName == name)], calls);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return stream.ToArray();
    }

    private static void WriteService(Utf8JsonWriter json, string name, ServerConnection[] connections, CallStatistics calls)
    {
        ulong sent = 0, received = 0, rejected = 0, spins = 0, parks = 0, wakeups = 0, lent = 0, requestsQueued = 0, repliesQueued = 0;
        int inFlight = 0;
        foreach (ServerConnection c in connections)
        {
            inFlight += c.InFlight;
            try
            {
                RpalConnectionStats s = c.Connection.Stats;
                sent += s.Sent;
                received += s.Received;
                rejected += s.Rejected;
                spins += s.Spins;
                parks += s.Parks;
                wakeups += s.Wakeups;
                lent += s.LentBytes;
                requestsQueued += s.RequestsInQueued;
                repliesQueued += s.ControlOutQueued + s.ControlOutBacklog;
            }
            catch (ObjectDisposedException)
            {
                // it closed meanwhile
            }
        }

        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteNumber("connections", connections.Length);
        json.WriteNumber("calls_in_flight", inFlight);
        json.WriteNumber("messages_sent", sent);
        json.WriteNumber("messages_received", received);
        json.WriteNumber("messages_rejected", rejected);
        json.WriteNumber("waits_spun", spins);
        json.WriteNumber("waits_parked", parks);
        json.WriteNumber("wakeups", wakeups);
        json.WriteNumber("lent_bytes", lent);
        json.WriteNumber("requests_queued", requestsQueued);
        json.WriteNumber("replies_queued", repliesQueued);
        calls.WriteMethods(json, name);
        json.WriteEndObject();
    }
}
