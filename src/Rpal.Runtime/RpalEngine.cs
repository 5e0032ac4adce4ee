using System.Runtime.InteropServices;
using Rpal.Runtime.Interop;

namespace Rpal.Runtime;

/// <summary>
/// The engine in this process: start it once, then register services, connect, allocate. Every
/// method is thread-safe.
/// </summary>
public static unsafe class RpalEngine
{
    /// <summary><see cref="Log"/> level of errors.</summary>
    public const int LogLevelError = 0;

    /// <summary><see cref="Log"/> level of warnings.</summary>
    public const int LogLevelWarning = 1;

    /// <summary><see cref="Log"/> level of information.</summary>
    public const int LogLevelInfo = 2;

    private static readonly Lock s_startLock = new();
    private static volatile bool s_started;
    private static long s_spinNs;

    /// <summary>
    /// Receives the engine's reasons for refused peers, rejected descriptors and ended
    /// connections, and this library's own reports (refused clients, exceptions on receiver
    /// threads): (level, message), level <see cref="LogLevelError"/>, <see cref="LogLevelWarning"/>
    /// or <see cref="LogLevelInfo"/>. Installed by <see cref="Start"/>.
    /// Handlers run on whatever thread is inside the engine, possibly while the engine holds
    /// internal locks: they must be quick, must not throw (exceptions are swallowed), and must
    /// not call into Rpal. With no handler, errors and warnings go to stderr when the RPAL_LOG
    /// environment variable is set, as the engine's own default sink does.
    /// </summary>
    public static event Action<int, string>? Log;

    /// <summary>
    /// As <see cref="Log"/>, with each report's <see cref="RpalLogCode"/>, which the engine passes
    /// with it (native/librpal/docs/api.md, "Log sink"): route reports by their code, not their
    /// text. Every report reaches both events. Same rules for handlers as <see cref="Log"/>.
    /// </summary>
    public static event Action<RpalLogEntry>? Logged;

    /// <summary>True once <see cref="Start"/> has succeeded.</summary>
    public static bool IsStarted => s_started;

    /// <summary>This process's slot id (0 or more). Throws <see cref="RpalException"/> (ENOTCONN) before <see cref="Start"/>.</summary>
    public static int SlotId
    {
        get
        {
            int rc = NativeMethods.rpal_slot_id();
            if (rc < 0)
            {
                ThrowHelper.ThrowRpal(rc, "rpal_slot_id");
            }

            return rc;
        }
    }

    /// <summary>
    /// How long waits that start from now on spin before they park (zero: park at once). The
    /// process-wide budget of rpal_epoll_wait, blocking calls and senders waiting for ring
    /// space. Throws <see cref="InvalidOperationException"/> before <see cref="Start"/> (which
    /// sets it from <see cref="RpalEngineOptions.SpinBudget"/> or RPAL_SPIN_NS).
    /// </summary>
    public static TimeSpan SpinBudget
    {
        get
        {
            EnsureStarted();
            return TimeSpan.FromTicks(Interlocked.Read(ref s_spinNs) / 100);
        }

        set
        {
            EnsureStarted();
            long ns = ToNanoseconds(value, nameof(value));
            int rc = NativeMethods.rpal_set_spin_ns(ns);
            if (rc < 0)
            {
                ThrowHelper.ThrowRpal(rc, "rpal_set_spin_ns");
            }

            Interlocked.Exchange(ref s_spinNs, ns);
        }
    }

    /// <summary>
    /// Starts the engine in this process (rpal_init): checks the runtime directory, reserves the
    /// slot window, takes a slot and maps this process's arena. The first call configures; later
    /// calls return at once and ignore their options. Installs the <see cref="Log"/> sink.
    /// </summary>
    /// <remarks>
    /// Options left null come from rpal_options_init: the engine's defaults, then the RPAL_*
    /// variables of the native environment. On Unix, <see cref="Environment.SetEnvironmentVariable(string, string)"/>
    /// does not reach the native environment; so that it still works for the one variable
    /// tests and hosts commonly set at run time, <see cref="RpalEngineOptions.RuntimeDirectory"/>
    /// falls back to RPAL_RUNTIME_DIR as <see cref="Environment.GetEnvironmentVariable(string)"/>
    /// sees it. Throws <see cref="RpalException"/>: EINVAL for bad options or a malformed RPAL_*
    /// variable, EPERM when the runtime directory is not private, EADDRINUSE when the slot window
    /// overlaps a mapping, EUSERS when no slot is free.
    /// </remarks>
    public static void Start(RpalEngineOptions? options = null)
    {
        if (s_started)
        {
            return;
        }

        lock (s_startLock)
        {
            if (s_started)
            {
                return;
            }

            StartCore(options);
        }
    }

    private static void StartCore(RpalEngineOptions? options)
    {
        NativeMethods.rpal_set_log_sink(&OnNativeLog, 0);

        RpalNativeOptions o = default;
        int rc = NativeMethods.rpal_options_init(&o);
        if (rc < 0)
        {
            ThrowHelper.ThrowRpal(rc, "rpal_options_init (a malformed RPAL_* environment variable)");
        }

        if (options?.ArenaSize is long arenaSize)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(arenaSize, "options.ArenaSize");
            o.ArenaSize = (ulong)arenaSize;
        }

        if (options?.RingEntries is int ringEntries)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(ringEntries, "options.RingEntries");
            o.RingEntries = (uint)ringEntries;
        }

        if (options?.MaxCallsPerConnection is int maxCalls)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(maxCalls, "options.MaxCallsPerConnection");
            o.MaxCalls = (uint)maxCalls;
        }

        if (options?.SpinBudget is TimeSpan spin)
        {
            o.SpinNs = ToNanoseconds(spin, "options.SpinBudget");
        }

        if (options?.RuntimeGroup is uint group)
        {
            ArgumentOutOfRangeException.ThrowIfEqual(group, uint.MaxValue, "options.RuntimeGroup");
            o.RuntimeGroup = group;
        }

        string? runtimeDir = options?.RuntimeDirectory;
        if (string.IsNullOrEmpty(runtimeDir))
        {
            runtimeDir = Environment.GetEnvironmentVariable("RPAL_RUNTIME_DIR");
        }

        nint dir = string.IsNullOrEmpty(runtimeDir) ? 0 : Marshal.StringToCoTaskMemUTF8(runtimeDir);
        try
        {
            o.RuntimeDir = dir;
            ClearLastError();
            rc = NativeMethods.rpal_init(&o);
        }
        finally
        {
            Marshal.FreeCoTaskMem(dir); // rpal_init copied it
        }

        // -EALREADY: native code in this process started the engine; use it as it is.
        if (rc < 0 && rc != -RpalErrno.EALREADY)
        {
            // the engine logs its reason (a runtime directory open to others, say) on this thread
            ThrowHelper.ThrowRpal(rc, (runtimeDir is null ? "rpal_init" : $"rpal_init (runtime directory '{runtimeDir}')") + LastErrorSuffix());
        }

        Interlocked.Exchange(ref s_spinNs, o.SpinNs);
        s_started = true;
    }

    /// <summary>
    /// Allocates at least <paramref name="size"/> bytes (more than 0) in this process's arena,
    /// 16-byte aligned. Throws <see cref="RpalException"/>: ENOMEM when the arena is full,
    /// EINVAL for size 0, ENOTCONN before <see cref="Start"/>.
    /// </summary>
    public static RpalBuffer Alloc(nuint size)
    {
        int rc = AllocCore(size, out RpalBuffer buffer);
        if (rc < 0)
        {
            ThrowHelper.ThrowRpal(rc, $"rpal_alloc({size})");
        }

        return buffer;
    }

    /// <summary>
    /// As <see cref="Alloc"/>, but returns false instead of throwing when the arena is full
    /// (ENOMEM); other errors still throw.
    /// </summary>
    public static bool TryAlloc(nuint size, out RpalBuffer buffer)
    {
        int rc = AllocCore(size, out buffer);
        if (rc == -RpalErrno.ENOMEM)
        {
            return false;
        }

        if (rc < 0)
        {
            ThrowHelper.ThrowRpal(rc, $"rpal_alloc({size})");
        }

        return true;
    }

    private static int AllocCore(nuint size, out RpalBuffer buffer)
    {
        void* p;
        int rc = NativeMethods.rpal_alloc(size, &p);
        if (rc < 0)
        {
            buffer = default;
            return rc;
        }

        long capacity = NativeMethods.rpal_alloc_size(p);
        buffer = new RpalBuffer((nint)p, capacity < 0 ? (long)size : capacity);
        return 0;
    }

    /// <summary>
    /// Frees a buffer that was never sent. Throws <see cref="RpalException"/> (EINVAL) for
    /// anything else: a buffer already sent or freed, or not from <see cref="Alloc"/>.
    /// </summary>
    public static void Free(RpalBuffer buffer) => Free(buffer.Address);

    /// <summary>As <see cref="Free(RpalBuffer)"/>, by address.</summary>
    public static void Free(nint address)
    {
        int rc = NativeMethods.rpal_free((void*)address);
        if (rc < 0)
        {
            ThrowHelper.ThrowRpal(rc, $"rpal_free(0x{address:x})");
        }
    }

    /// <summary>Reports a message through <see cref="Log"/> (for this library's own reports).</summary>
    /// <summary>The engine's last error message on this thread: the reason behind a failed rpal_init, connect or accept.</summary>
    [ThreadStatic]
    private static string? s_lastError;

    /// <summary>Forgets the last error message; call before an engine call whose reason is wanted.</summary>
    internal static void ClearLastError() => s_lastError = null;

    /// <summary>": REASON" when the engine logged an error on this thread since <see cref="ClearLastError"/>, else "".</summary>
    internal static string LastErrorSuffix() => s_lastError is { } reason ? $": {reason}" : "";

    internal static void WriteLog(int level, string message) => WriteLog(level, RpalLogCode.Other, message);

    internal static void WriteLog(int level, RpalLogCode code, string message)
    {
        Action<int, string>? log = Log;
        Action<RpalLogEntry>? logged = Logged;
        if (log is null && logged is null)
        {
            if (level <= LogLevelWarning && Environment.GetEnvironmentVariable("RPAL_LOG") is not null)
            {
                WriteToStandardError(level, message);
            }

            return;
        }

        if (log is not null)
        {
            foreach (Delegate handler in log.GetInvocationList())
            {
                try
                {
                    ((Action<int, string>)handler)(level, message);
                }
#pragma warning disable CA1031 // A log handler's failure must not reach the engine's thread.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }
        }

        if (logged is not null)
        {
            var entry = new RpalLogEntry(level, code, message);
            foreach (Delegate handler in logged.GetInvocationList())
            {
                try
                {
                    ((Action<RpalLogEntry>)handler)(entry);
                }
#pragma warning disable CA1031 // A log handler's failure must not reach the engine's thread.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }
        }
    }

    // Console.Error can throw: it dups fd 2 when first used (EMFILE when the process is out of
    // fds), and an application may have replaced it with any writer. A report that cannot be
    // written is dropped: this runs on receiver threads, whose last resort it is.
    private static void WriteToStandardError(int level, string message)
    {
        try
        {
            string name = level == LogLevelError ? "error" : "warning";
            Console.Error.WriteLine($"rpal[{Environment.ProcessId}] {name}: {message}");
        }
#pragma warning disable CA1031 // Nothing is left to report a failure of the last resort to.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    // Called by librpal from any thread inside it, possibly with its locks held: no locks here,
    // nothing that calls back into librpal, and no exception may escape into native code.
    [UnmanagedCallersOnly]
    private static void OnNativeLog(RpalNativeLogRecord* record, nint context)
    {
        try
        {
            // a record is at least the 1.2 struct (this binding ships with its engine); the size
            // says what a later engine added
            if (record->Size < (uint)sizeof(RpalNativeLogRecord))
            {
                return;
            }

            int level = record->Level;
            string text = Marshal.PtrToStringUTF8(record->Message) ?? "";
            if (level == LogLevelError)
            {
                s_lastError = text;
            }

            WriteLog(level, (RpalLogCode)record->Code, text);
        }
#pragma warning disable CA1031 // An exception unwinding into C would kill the process.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    internal static void EnsureStarted()
    {
        if (!s_started)
        {
            ThrowHelper.ThrowNotStarted();
        }
    }

    private static long ToNanoseconds(TimeSpan value, string paramName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero, paramName);
        return checked(value.Ticks * 100);
    }
}
