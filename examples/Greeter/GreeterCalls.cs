using System.Diagnostics;
using System.Globalization;
using Greet;
using Grpc.Core;

namespace GreeterExample;

/// <summary>
/// The client code of the demo. It sees only the protoc-generated <see cref="Greeter.GreeterClient"/>,
/// never the transport: the demo runs it once over an RpalChannel and once over a GrpcChannel.
/// </summary>
internal static class GreeterCalls
{
    /// <summary>The deadline of every call below but the one that shows a deadline passing.</summary>
    private static readonly TimeSpan s_callDeadline = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Makes one call of each shape, one that fails with a status, and one whose deadline passes,
    /// and reports what came back. The answers leave out the server's pid (it differs per
    /// transport); the pids go to <see cref="ClientReport.ServerPids"/>.
    /// </summary>
    public static async Task<ClientReport> RunClientAsync(Greeter.GreeterClient client, string label)
    {
        var results = new List<(string, string)>();
        var pids = new HashSet<int>();

        // Unary, with a response trailer.
        using (AsyncUnaryCall<HelloReply> call = client.SayHelloAsync(new HelloRequest { Name = "Ada" }, deadline: Deadline()))
        {
            HelloReply reply = await call.ResponseAsync;
            pids.Add(reply.ServerPid);
            string? greetedBy = call.GetTrailers().GetValue("greeted-by");
            string trailer = greetedBy == reply.ServerPid.ToString(CultureInfo.InvariantCulture) ? "the replying pid" : $"'{greetedBy}' (not the replying pid)";
            results.Add(("SayHello(\"Ada\")", $"{reply.Message}  (trailer greeted-by: {trailer})"));
        }

        // Server streaming.
        using (AsyncServerStreamingCall<HelloReply> call = client.StreamGreetings(new HelloRequest { Name = "Grace", Count = 3 }, deadline: Deadline()))
        {
            var messages = new List<string>();
            await foreach (HelloReply reply in call.ResponseStream.ReadAllAsync())
            {
                pids.Add(reply.ServerPid);
                messages.Add(reply.Message);
            }

            results.Add(("StreamGreetings(\"Grace\", count 3)", string.Join(" | ", messages)));
        }

        // Client streaming.
        string[] names = ["Ada", "Grace", "Linus"];
        using (AsyncClientStreamingCall<HelloRequest, NameCount> call = client.CountNames(deadline: Deadline()))
        {
            foreach (string name in names)
            {
                await call.RequestStream.WriteAsync(new HelloRequest { Name = name });
            }

            await call.RequestStream.CompleteAsync();
            NameCount count = await call.ResponseAsync;
            pids.Add(count.ServerPid);
            results.Add(("CountNames(Ada, Grace, Linus)", $"{count.Count} names: {string.Join(", ", count.Names)}"));
        }

        // Bidirectional: read the replies while the names are still being written.
        using (AsyncDuplexStreamingCall<HelloRequest, HelloReply> call = client.Chat(deadline: Deadline()))
        {
            Task<List<string>> reading = ReadAllAsync(call.ResponseStream, pids);
            foreach (string name in names)
            {
                await call.RequestStream.WriteAsync(new HelloRequest { Name = name });
            }

            await call.RequestStream.CompleteAsync();
            results.Add(("Chat(Ada, Grace, Linus)", string.Join(" | ", await reading)));
        }

        // A status from the handler: the code and the detail arrive as the server set them.
        try
        {
            await client.SayHelloAsync(new HelloRequest { Name = "" }, deadline: Deadline());
            results.Add(("SayHello(\"\")", "no error (expected InvalidArgument)"));
        }
        catch (RpcException e)
        {
            results.Add(("SayHello(\"\")", $"{e.StatusCode}: {e.Status.Detail}"));
        }

        // A deadline that passes: the server takes 2 s, the caller gives it 200 ms. Only the
        // code is compared; each transport words the detail its own way.
        long start = Stopwatch.GetTimestamp();
        try
        {
            await client.SayHelloAsync(new HelloRequest { Name = "Slow", DelayMs = 2000 }, deadline: DateTime.UtcNow.AddMilliseconds(200));
            results.Add(("SayHello(delay 2 s, deadline 200 ms)", "no error (expected DeadlineExceeded)"));
        }
        catch (RpcException e)
        {
            bool prompt = Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(1.5);
            results.Add(("SayHello(delay 2 s, deadline 200 ms)", $"{e.StatusCode}{(prompt ? " before the server answered" : " (late)")}"));
        }

        return new ClientReport(label, results, pids);
    }

    /// <summary>
    /// Times <paramref name="count"/> SayHello round trips, one after another, after a short
    /// warm-up (JIT, connection setup): blocking (<c>SayHello</c>) or awaited
    /// (<c>SayHelloAsync</c>). Returns the times in nanoseconds, sorted.
    /// </summary>
    public static async Task<long[]> TimeSayHelloAsync(Greeter.GreeterClient client, int count, bool blocking)
    {
        var request = new HelloRequest { Name = "Ada" };
        // Two seconds: right after "dotnet run" starts the demo, the build's own processes and the
        // JIT's background tier-up still want a core, and on a 2-core machine they get one only by
        // preempting the spinning caller or receiver (blocking SayHello then measures ~150 us at
        // p50 instead of ~8 us).
        long warmEnd = Stopwatch.GetTimestamp() + (2 * Stopwatch.Frequency);
        for (int i = 0; i < count / 10 || Stopwatch.GetTimestamp() < warmEnd; i++)
        {
            await CallAsync();
        }

        long[] ns = new long[count];
        for (int i = 0; i < count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            await CallAsync();
            ns[i] = (long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds;
        }

        Array.Sort(ns);
        return ns;

        async Task CallAsync()
        {
            if (blocking)
            {
                client.SayHello(request);
            }
            else
            {
                await client.SayHelloAsync(request);
            }
        }
    }

    private static DateTime Deadline() => DateTime.UtcNow + s_callDeadline;

    private static async Task<List<string>> ReadAllAsync(IAsyncStreamReader<HelloReply> replies, HashSet<int> pids)
    {
        var messages = new List<string>();
        await foreach (HelloReply reply in replies.ReadAllAsync())
        {
            pids.Add(reply.ServerPid);
            messages.Add(reply.Message);
        }

        return messages;
    }
}
