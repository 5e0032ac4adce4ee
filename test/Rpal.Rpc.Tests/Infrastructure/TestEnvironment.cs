using System.Reflection;
using System.Runtime.CompilerServices;
using Rpal.Runtime;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>
/// What this test process and its server processes share: a private runtime directory (mode
/// 0700, made when the assembly loads) and a short spin budget, and where the server's dll is.
/// </summary>
internal static class TestEnvironment
{
    /// <summary>Bounded spinning (RPAL_SPIN_NS=20000): the machine may have 2 cores.</summary>
    public static readonly TimeSpan SpinBudget = TimeSpan.FromMicroseconds(20);

    private static readonly Lock s_lock = new();

    /// <summary>The runtime directory of this process and its children.</summary>
    public static string RuntimeDirectory { get; private set; } = "";

    /// <summary>The environment of server processes.</summary>
    public static IReadOnlyDictionary<string, string> ChildEnvironment => new Dictionary<string, string>
    {
        ["RPAL_RUNTIME_DIR"] = RuntimeDirectory,
        ["RPAL_SPIN_NS"] = "20000",
        ["RPAL_LOG"] = "1", // the engine's errors and warnings go to stderr, which failures show
    };

    /// <summary>The path of Rpal.Rpc.TestServer.dll (written into this assembly by the build).</summary>
    public static string TestServerPath { get; } =
        typeof(TestEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "RpalTestServer").Value
        ?? throw new InvalidOperationException("the build did not record the test server's path");

#pragma warning disable CA2255 // The test assembly's own set-up, not a library's.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        // Many tests block pool threads (sync waits on child processes, blocking calls made from
        // async tests); with the default minimum (one per core, 2 here) a starved pool adds a
        // thread only every half second or so, and a timing-bound test then measures the pool's
        // injection delay instead of the engine (seen: a kill test's continuations stalled ~1 s on
        // the one pool thread running them). Tests are not a place to measure that.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), io);

        // CreateTempSubdirectory makes it mode 0700 (mkdtemp), as the engine requires.
        string dir = Directory.CreateTempSubdirectory("rpal-rpc-tests-").FullName;
        RuntimeDirectory = dir;
        Environment.SetEnvironmentVariable("RPAL_RUNTIME_DIR", dir);
        Environment.SetEnvironmentVariable("RPAL_SPIN_NS", "20000");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        };
    }

    /// <summary>Starts this process's engine with the shared directory and spin budget (once).</summary>
    public static void EnsureEngine()
    {
        lock (s_lock)
        {
            RpalEngine.Start(new RpalEngineOptions { RuntimeDirectory = RuntimeDirectory, SpinBudget = SpinBudget });
        }
    }

    /// <summary>Connects to <paramref name="serviceName"/> from this process.</summary>
    public static ValueTask<RpalChannel> ConnectAsync(string serviceName, RpalChannelOptions? options = null)
    {
        EnsureEngine();
        return RpalChannel.ConnectAsync(serviceName, options);
    }
}
