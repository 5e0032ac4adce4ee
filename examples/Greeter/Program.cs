// Rpal Greeter: one gRPC service, defined in Protos/greet.proto and compiled by Grpc.Tools,
// served over Rpal and over HTTP/2 (Kestrel, grpc-dotnet), and called by the same client code.
//
//   dotnet run --project examples/Greeter
//
// With no arguments this is the demo: it starts itself twice more as servers, "server-rpal"
// (RpalServer) and "server-http2 SOCKETPATH" (Kestrel on a Unix socket), runs
// GreeterCalls.RunClientAsync against each, checks that both gave the same answers, and times
// SayHello on both. Exit code 0 when everything matched.

using System.Globalization;
using Greet;
using GreeterExample;
using Grpc.Net.Client;
using Rpal.Rpc;

switch (args)
{
    case ["server-rpal"]:
        return await ServerHosts.RunRpalAsync();
    case ["server-http2", var socketPath]:
        return await ServerHosts.RunHttp2Async(socketPath);
    case []:
        return await RunDemoAsync();
    default:
        Console.Error.WriteLine("usage: Greeter [server-rpal | server-http2 SOCKETPATH]");
        return 2;
}

static async Task<int> RunDemoAsync()
{
    const int TimedCalls = 2000;
    TimeSpan readyTimeout = TimeSpan.FromSeconds(60);
    TimeSpan stepTimeout = TimeSpan.FromSeconds(60);
    string socketPath = Path.Combine(Path.GetTempPath(), $"rpal-greeter-{Environment.ProcessId}.sock");

    try
    {
        // Both servers start at once; each prints "ready" when it accepts calls.
        await using ServerProcess rpalServer = ServerProcess.Start("server-rpal");
        await using ServerProcess http2Server = ServerProcess.Start("server-http2", socketPath);
        await Task.WhenAll(rpalServer.WaitUntilReadyAsync(readyTimeout), http2Server.WaitUntilReadyAsync(readyTimeout));

        // Two channels, one client type. RpalChannel connects to the gRPC service name.
        await using RpalChannel rpalChannel = await RpalChannel.ConnectAsync("greet.Greeter").AsTask().WaitAsync(stepTimeout);
        using GrpcChannel http2Channel = UnixSocketChannel.Create(socketPath);
        var rpalClient = new Greeter.GreeterClient(rpalChannel);
        var http2Client = new Greeter.GreeterClient(http2Channel);

        Console.WriteLine($"greet.Greeter, one client function, two transports (client pid {Environment.ProcessId})");
        Console.WriteLine($"  rpal   RpalChannel \"greet.Greeter\"           -> RpalServer, pid {rpalServer.Id}");
        Console.WriteLine($"  http2  GrpcChannel, unix:{socketPath} -> Kestrel, pid {http2Server.Id}");
        Console.WriteLine();

        ClientReport rpal = await GreeterCalls.RunClientAsync(rpalClient, "rpal").WaitAsync(stepTimeout);
        ClientReport http2 = await GreeterCalls.RunClientAsync(http2Client, "http2").WaitAsync(stepTimeout);
        bool same = Compare(rpal, http2);
        same &= CheckServedBy(rpal, rpalServer.Id);
        same &= CheckServedBy(http2, http2Server.Id);

        Console.WriteLine();
        Console.WriteLine($"SayHello round trip, {TimedCalls:N0} calls one after another on each:");
        Console.WriteLine($"  {"",-22}{"p50",10}{"p99",10}");
        foreach (bool blocking in new[] { true, false })
        {
            long[] rpalNs = await GreeterCalls.TimeSayHelloAsync(rpalClient, TimedCalls, blocking).WaitAsync(stepTimeout);
            long[] http2Ns = await GreeterCalls.TimeSayHelloAsync(http2Client, TimedCalls, blocking).WaitAsync(stepTimeout);
            string how = blocking ? "SayHello" : "await SayHelloAsync";
            PrintTimes($"rpal  {how}", rpalNs);
            PrintTimes($"http2 {how}", http2Ns);
            Console.WriteLine($"  {"",-22}Rpal {Percentile(http2Ns, 0.5) / (double)Percentile(rpalNs, 0.5):F1}x as fast at p50");
        }

        Console.WriteLine("  (a rough illustration on this machine, not a benchmark: an awaited call wakes the client's");
        Console.WriteLine("  completion thread and a thread-pool thread, which a 2-core machine pays for)");

        int rpalExit = await rpalServer.StopAsync();
        int http2Exit = await http2Server.StopAsync();
        Console.WriteLine();
        Console.WriteLine($"servers stopped: rpal exit code {rpalExit}, http2 exit code {http2Exit}");
        if (!same || rpalExit != 0 || http2Exit != 0)
        {
            Console.WriteLine("FAILED: see above");
            return 1;
        }

        Console.WriteLine("OK: both transports gave the same answers");
        return 0;
    }
    catch (Exception e) when (e is TimeoutException or InvalidOperationException or Grpc.Core.RpcException or IOException)
    {
        Console.Error.WriteLine($"FAILED: {e}");
        return 1;
    }
    finally
    {
        // The servers are stopped by now (await using); Kestrel may leave its socket file.
        File.Delete(socketPath);
    }
}

// One line per call: the answer once when both transports agree, both when they do not. The
// same function made the calls on both, so the lists line up.
static bool Compare(ClientReport a, ClientReport b)
{
    bool same = true;
    for (int i = 0; i < a.Results.Count; i++)
    {
        (string call, string answer) = a.Results[i];
        string other = b.Results[i].Answer;
        if (answer == other)
        {
            Console.WriteLine($"  same  {call,-38}{answer}");
        }
        else
        {
            same = false;
            Console.WriteLine($"  DIFF  {call,-38}{a.Label}: {answer}");
            Console.WriteLine($"        {"",-38}{b.Label}: {other}");
        }
    }

    return same;
}

// Every reply must come from the server process the demo started for that transport.
static bool CheckServedBy(ClientReport report, int pid)
{
    if (report.ServerPids.SetEquals([pid]))
    {
        return true;
    }

    Console.WriteLine($"  DIFF  {report.Label} replies came from pid(s) {string.Join(", ", report.ServerPids)}, expected {pid}");
    return false;
}

static long Percentile(long[] sorted, double p) => sorted[(int)((sorted.Length - 1) * p)];

static void PrintTimes(string label, long[] sorted) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {label,-22}{Percentile(sorted, 0.5) / 1000.0,7:F1} us{Percentile(sorted, 0.99) / 1000.0,7:F1} us"));
