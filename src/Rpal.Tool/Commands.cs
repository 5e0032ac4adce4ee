using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Rpal.Rpc.Wire;
using Rpal.Runtime;

namespace Rpal.Tool;

/// <summary>The tool's commands; each returns its exit code or throws <see cref="ToolException"/>.</summary>
internal static class Commands
{
    private const int CallTimeoutMs = 5000;

    /// <summary>rpal list: the live services of the runtime directory, as the engine lists them.</summary>
    public static int List(Options o)
    {
        string directory = o.RuntimeDirectory ?? EngineDirectory();
        IReadOnlyList<RpalServiceEntry> entries;
        try
        {
            entries = RpalRegistry.ListServices(o.RuntimeDirectory);
        }
        catch (RpalException e) when (e.Errno == RpalErrno.ENOENT)
        {
            Console.WriteLine($"no Rpal services: there is no registry at {directory}");
            return 0;
        }
        catch (RpalException e)
        {
            throw new ToolException($"cannot list the services of {directory}: {e.Message}", ToolException.Failed);
        }

        // unregistered, or left by a process that died: the next server of the name takes it over
        int stale = entries.Count(e => !e.IsLive);
        List<string[]> rows = [.. entries.Where(e => e.IsLive).Select(e => new[]
        {
            e.Name,
            e.ProcessId.ToString(CultureInfo.InvariantCulture),
            e.Slot.ToString(CultureInfo.InvariantCulture),
            "user",
            e.Connections.ToString(CultureInfo.InvariantCulture),
        })];

        if (rows.Count == 0)
        {
            Console.WriteLine($"no live Rpal services in {directory}");
        }
        else
        {
            PrintTable(["SERVICE", "PID", "SLOT", "BACKEND", "CONNECTIONS"], rows);
        }

        if (stale > 0)
        {
            Console.WriteLine($"({stale} entr{(stale == 1 ? "y" : "ies")} of services no longer served)");
        }

        return 0;
    }

    /// <summary>rpal ping NAME: round trips answered by the server itself, with percentiles.</summary>
    public static int Ping(Options o)
    {
        using RpalConnection connection = Connect(o);
        RpalMessage request = IntrospectionCodec.Request(IntrospectionCodec.OpPing);
        var ticks = new long[o.Count];
        long lastProgress = Stopwatch.GetTimestamp();
        for (int i = 0; i < o.Count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            RpalMessage reply = Call(connection, o, in request);
            ticks[i] = Stopwatch.GetTimestamp() - start;
            connection.Release(in reply);
            if (Stopwatch.GetElapsedTime(lastProgress) > TimeSpan.FromSeconds(1))
            {
                Console.Error.WriteLine($"rpal: {i + 1:N0} of {o.Count:N0} round trips");
                lastProgress = Stopwatch.GetTimestamp();
            }
        }

        Array.Sort(ticks);
        string Us(double q) => (Stopwatch.GetElapsedTime(0, ticks[Math.Min(ticks.Length - 1, (int)(q * ticks.Length))]).TotalMicroseconds).ToString("F1", CultureInfo.InvariantCulture);
        Console.WriteLine(
            $"{o.Count:N0} round trips to {o.Name} (pid {connection.PeerInfo.ProcessId}): " +
            $"min {Us(0)} us, p50 {Us(0.5)} us, p90 {Us(0.9)} us, p99 {Us(0.99)} us, max {Us(1)} us");
        return 0;
    }

    /// <summary>rpal stats NAME: the server's snapshot of its services and the engine's counters.</summary>
    public static int Stats(Options o)
    {
        using RpalConnection connection = Connect(o);
        RpalMessage request = IntrospectionCodec.Request(IntrospectionCodec.OpStats);
        RpalMessage reply = Call(connection, o, in request);
        try
        {
            if (reply.Word0 > (ulong)reply.Payload.Length)
            {
                throw new ToolException($"{o.Name} answered a malformed snapshot", ToolException.Failed);
            }

            using JsonDocument snapshot = JsonDocument.Parse(reply.Payload[..(int)reply.Word0].ToArray());
            using var stdout = Console.OpenStandardOutput();
            using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
            {
                snapshot.WriteTo(writer);
            }

            Console.WriteLine();
            Console.WriteLine("(counts include this rpal process's own connection)");
        }
        catch (JsonException e)
        {
            throw new ToolException($"{o.Name} answered a malformed snapshot: {e.Message}", ToolException.Failed);
        }
        finally
        {
            connection.Release(in reply);
        }

        return 0;
    }

    /// <summary>rpal bench ARGS: the benchmark suite, which ships beside the tool.</summary>
    public static int Bench(string[] args)
    {
        string bench = Path.Combine(AppContext.BaseDirectory, "Rpal.Bench.dll");
        if (!File.Exists(bench))
        {
            throw new ToolException($"the benchmark suite is not beside the tool ({bench})", ToolException.Failed);
        }

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { UseShellExecute = false };
        start.ArgumentList.Add(bench);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start) ?? throw new ToolException("cannot start dotnet", ToolException.Failed);
        process.WaitForExit();
        return process.ExitCode;
    }

    private static RpalConnection Connect(Options o)
    {
        try
        {
            RpalEngine.Start(new RpalEngineOptions
            {
                RuntimeDirectory = o.RuntimeDirectory,
                ArenaSize = 1 << 20, // the tool sends nothing
                SpinBudget = TimeSpan.FromMicroseconds(20),
            });
            return RpalConnection.Connect(o.Name!);
        }
        catch (RpalException e) when (e.Errno == RpalErrno.ENOENT)
        {
            throw new ToolException($"no process serves '{o.Name}' (rpal list shows the services of {o.RuntimeDirectory ?? EngineDirectory()})", ToolException.NoSuchService);
        }
        catch (RpalException e)
        {
            throw new ToolException($"cannot reach '{o.Name}': {e.Message}", ToolException.NoSuchService);
        }
    }

    private static RpalMessage Call(RpalConnection connection, Options o, in RpalMessage request)
    {
        int rc = connection.Call(in request, out RpalMessage reply, CallTimeoutMs);
        if (rc < 0)
        {
            throw new ToolException($"{o.Name}: the call failed: {RpalErrno.GetMessage(rc)} ({RpalErrno.GetName(rc)})", ToolException.Failed);
        }

        if ((reply.Status & 0xFFFF) != 0)
        {
            connection.Release(in reply);
            throw new ToolException($"{o.Name} does not answer introspection calls (status {reply.Status & 0xFFFF}): it is not an Rpal.Rpc server, or an older one", ToolException.Failed);
        }

        return reply;
    }

    /// <summary>The runtime directory the engine uses, or would (for messages).</summary>
    private static string EngineDirectory()
    {
        try
        {
            return RpalRegistry.RuntimeDirectory;
        }
        catch (RpalException e)
        {
            throw new ToolException($"no runtime directory: {e.Message}", ToolException.Failed);
        }
    }

    private static void PrintTable(string[] header, List<string[]> rows)
    {
        int[] widths = [.. header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length)))];
        Console.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (string[] row in rows)
        {
            Console.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        }
    }
}
