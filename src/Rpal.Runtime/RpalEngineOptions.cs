namespace Rpal.Runtime;

/// <summary>
/// Options of <see cref="RpalEngine.Start"/>. A null property keeps the engine's value: its
/// default, or the environment variable named on the property (read by the engine through the
/// process's native environment, see <see cref="RpalEngine.Start"/>).
/// </summary>
public sealed class RpalEngineOptions
{
    /// <summary>
    /// This process's arena in bytes: a multiple of 4096, at least 1 MiB, at most the slot size.
    /// Default 128 MiB, environment RPAL_ARENA_SIZE. Its pages are resident only once written.
    /// A server's connections may hold half of it (64 KiB each with the default rings: 1,024 with
    /// the defaults); a client past that is refused (ENOSPC), the other half is kept for messages.
    /// </summary>
    public long? ArenaSize { get; set; }

    /// <summary>
    /// Descriptors per ring this process produces: a power of two, 16 to 65536. Default 256,
    /// environment RPAL_RING_ENTRIES.
    /// </summary>
    public int? RingEntries { get; set; }

    /// <summary>
    /// Calls this process may have in flight per connection, 1 to 65535. Default 1024,
    /// environment RPAL_MAX_CALLS.
    /// </summary>
    public int? MaxCallsPerConnection { get; set; }

    /// <summary>
    /// How long a waiter spins before it parks in the kernel; zero parks at once. Default
    /// 50 µs, environment RPAL_SPIN_NS. Can be changed later with <see cref="RpalEngine.SpinBudget"/>.
    /// </summary>
    public TimeSpan? SpinBudget { get; set; }

    /// <summary>
    /// The registry directory every process that wants to talk must share (created mode 0700,
    /// must be owned by this user and private). Default: RPAL_RUNTIME_DIR, else
    /// $XDG_RUNTIME_DIR/rpal, else /tmp/rpal-UID.
    /// </summary>
    public string? RuntimeDirectory { get; set; }

    /// <summary>
    /// Shares the runtime directory with a group, so that processes of several users find each
    /// other: the group's id. The directory must then be mode 2770 (3770 recommended), belong to
    /// that group, be owned by this user or root, and this process must be in the group; it
    /// defaults to /tmp/rpal-gGID. Sharing the registry only lets peers find each other: each
    /// service still admits only its own user unless its allowlist (<see cref="RpalAccess"/>)
    /// says more. Default: private (environment RPAL_RUNTIME_GROUP, a gid or a group name).
    /// </summary>
    public uint? RuntimeGroup { get; set; }
}
