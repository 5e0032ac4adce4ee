// Rpal quickstart: one command starts a server process, calls it through the generated
// client, and compares the round trip with a Unix-socket round trip between the same two
// processes.
//
//   dotnet run --project examples/Quickstart
//
// The same program is the server when started with "server" (the client starts it so).

using System.Diagnostics;
using Quickstart;
using Rpal.Rpc;

const string SocketName = "rpal-quickstart.sock";
string socketPath = Path.Combine(Path.GetTempPath(), $"{Environment.UserName}-{SocketName}");

if (args is ["server", ..])
{
    return await RunServerAsync(socketPath);
}

return await RunClientAsync(socketPath, args);

static async Task<int> RunServerAsync(string socketPath)
{
    await using var server = new RpalServer();
    server.AddService<ICalculator>(new Calculator());
    await server.StartAsync();
    using var raw = new RawEngineEcho("demo.calculator.raw");
    using var listener = UnixSocketEcho.Listen(socketPath);
    var echo = new Thread(() => UnixSocketEcho.Serve(listener)) { IsBackground = true };
    echo.Start();
    Console.WriteLine("ready");
    await Console.In.ReadLineAsync(); // the client closes our stdin when it is done
    File.Delete(socketPath);
    return 0;
}

static async Task<int> RunClientAsync(string socketPath, string[] args)
{
    int iterations = args is ["--iterations", var n, ..] ? int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : 20_000;
    using Process server = StartServer();
    try
    {
        await using RpalChannel channel = await RpalChannel.ConnectAsync("demo.calculator");
        ICalculator calc = channel.CreateClient<ICalculator>();

        Console.WriteLine($"client pid {Environment.ProcessId}, server pid {server.Id}");
        Console.WriteLine($"calc.Add(2, 3) = {calc.Add(2, 3)}");
        Console.WriteLine($"await calc.GreetAsync(\"Rpal\") = {await calc.GreetAsync("Rpal")}");

        using var socket = UnixSocketEcho.Connect(socketPath);
        using var engine = Rpal.Runtime.RpalConnection.Connect("demo.calculator.raw");
        long[] rpal = Measure(iterations, i => calc.Add(i, 1));
        long[] floor = Measure(iterations, i => (int)RawEngineEcho.Call(engine, i, 1));
        long[] uds = Measure(iterations, i => (int)UnixSocketEcho.RoundTrip(socket, i));
        Console.WriteLine();
        Console.WriteLine($"round trip, {iterations:N0} calls each, same two processes:");
        Console.WriteLine($"{"",-34}{"p50",10}{"p99",10}{"mean",10}");
        Print("Rpal calc.Add(i, 1)", rpal);
        Print("engine call, no RPC layer", floor);
        Print("Unix socket 8 B echo", uds);
        Console.WriteLine($"Rpal is {Percentile(uds, 0.5) / (double)Percentile(rpal, 0.5):F1}x faster than the Unix socket at p50, "
            + $"{Percentile(rpal, 0.5) / (double)Percentile(floor, 0.5):F1}x the engine's own round trip");
        return 0;
    }
    finally
    {
        server.StandardInput.Close();
        if (!server.WaitForExit(5000))
        {
            server.Kill();
        }
    }
}

static Process StartServer()
{
    var start = new ProcessStartInfo(Environment.ProcessPath!)
    {
        RedirectStandardInput = true,
        RedirectStandardOutput = true,
        UseShellExecute = false,
    };
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
    {
        // Started as `dotnet Quickstart.dll`: start the server the same way. (Not through
        // Assembly.Location, which is empty in a Native AOT binary and so warns there, IL3000;
        // a native binary is its own ProcessPath and never takes this branch.)
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, $"{typeof(Calculator).Assembly.GetName().Name}.dll"));
    }

    start.ArgumentList.Add("server");
    Process p = Process.Start(start) ?? throw new InvalidOperationException("cannot start the server");
    string? line = p.StandardOutput.ReadLine();
    if (line != "ready")
    {
        throw new InvalidOperationException($"the server did not start: {line}");
    }

    return p;
}

static long[] Measure(int iterations, Func<int, int> call)
{
    // warm up for half a second: long enough for the JIT's tier-1 code to replace tier 0
    long warmEnd = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 2);
    for (int i = 0; i < iterations / 10 || Stopwatch.GetTimestamp() < warmEnd; i++)
    {
        call(i);
    }

    long[] ns = new long[iterations];
    for (int i = 0; i < iterations; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        call(i);
        ns[i] = (long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds;
    }

    Array.Sort(ns);
    return ns;
}

static long Percentile(long[] sorted, double p) => sorted[(int)((sorted.Length - 1) * p)];

static void Print(string name, long[] sorted) =>
    Console.WriteLine($"{name,-34}{Percentile(sorted, 0.5),8} ns{Percentile(sorted, 0.99),8} ns{sorted.Average(),8:F0} ns");
