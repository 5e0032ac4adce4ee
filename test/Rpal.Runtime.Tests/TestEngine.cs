using System.Runtime.CompilerServices;

namespace Rpal.Runtime.Tests;

/// <summary>
/// The engine of this test process, shared by every test: a fresh private runtime directory
/// (mode 0700) per test process, set before <see cref="RpalEngine.Start"/>, and the options the
/// tests check.
/// </summary>
internal static class TestEngine
{
    /// <summary>Arena of this process (the peer reports it back in a cross-process test).</summary>
    public const long ArenaSize = 16L << 20;

    /// <summary>Bounded spinning: the dev and CI machines have 2 cores.</summary>
    public static readonly TimeSpan SpinBudget = TimeSpan.FromMicroseconds(20);

    private static readonly Lock s_lock = new();
    private static int s_serviceCount;

    /// <summary>The runtime directory this process and its peers share.</summary>
    public static string RuntimeDirectory { get; private set; } = "";

    /// <summary>Environment for peer processes.</summary>
    public static IReadOnlyDictionary<string, string> PeerEnvironment => new Dictionary<string, string>
    {
        ["RPAL_RUNTIME_DIR"] = RuntimeDirectory,
        ["RPAL_SPIN_NS"] = "20000",
    };

    /// <summary>
    /// Runs when the test assembly loads, before any test can start the engine: creates the
    /// runtime directory and points RPAL_RUNTIME_DIR at it. RpalEngine.Start reads it from the
    /// managed environment (SetEnvironmentVariable does not reach the native one), and peer
    /// processes inherit it.
    /// </summary>
#pragma warning disable CA2255 // The test assembly's own set-up, not a library's.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        // CreateTempSubdirectory makes it mode 0700 (mkdtemp), as the engine requires.
        string dir = Directory.CreateTempSubdirectory("rpal-runtime-tests-").FullName;
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

    /// <summary>Starts the engine of this process once, with the options the tests check.</summary>
    public static void EnsureStarted()
    {
        lock (s_lock)
        {
            RpalEngine.Start(new RpalEngineOptions
            {
                ArenaSize = ArenaSize,
                SpinBudget = SpinBudget,
                RingEntries = 128,
                MaxCallsPerConnection = 512,
            });
        }
    }

    /// <summary>A service name no other test of this run uses.</summary>
    public static string UniqueServiceName(string what) =>
        $"rt-{what}-{Environment.ProcessId}-{Interlocked.Increment(ref s_serviceCount)}";
}
