using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Rpal.Runtime.Interop;
using Xunit;

namespace Rpal.Runtime.Tests;

/// <summary>
/// The C# mirrors of rpal.h's structs and constants match the C header: the rpal-layout program
/// (native/librpal/tools/rpal_layout.c) prints every field's offset and size, every struct's
/// size and the constants, and each line must have the same value on the C# side.
/// </summary>
public sealed class StructLayoutTests
{
    private const BindingFlags AnyInstance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    [Fact]
    public void EverySharedStructAndConstant_MatchesTheHeader()
    {
        string[] native = RunLayoutProgram();
        Dictionary<string, string> managed = ManagedLayout();

        var problems = new List<string>();
        foreach (string line in native)
        {
            // "struct.field OFFSET SIZE", "struct sizeof SIZE", "const NAME VALUE"
            string[] tokens = line.Split(' ');
            int keyTokens = tokens[0] == "const" || tokens[1] == "sizeof" ? 2 : 1;
            string key = string.Join(' ', tokens[..keyTokens]);
            string value = string.Join(' ', tokens[keyTokens..]);
            if (!managed.Remove(key, out string? mine))
            {
                problems.Add($"C has '{line}', C# has no '{key}'");
            }
            else if (mine != value)
            {
                problems.Add($"{key}: C says '{value}', C# says '{mine}'");
            }
        }

        foreach ((string key, string value) in managed)
        {
            problems.Add($"C# has '{key} {value}', rpal-layout does not print it");
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void InlineWords_AreConsecutive()
    {
        long word0 = Marshal.OffsetOf<RpalMessage>(nameof(RpalMessage.Word0));
        Assert.Equal(word0 + 8, (long)Marshal.OffsetOf<RpalMessage>(nameof(RpalMessage.Word1)));
        Assert.Equal(word0 + 16, (long)Marshal.OffsetOf<RpalMessage>(nameof(RpalMessage.Word2)));
        Assert.Equal(word0 + 24, (long)Marshal.OffsetOf<RpalMessage>(nameof(RpalMessage.Word3)));

        var message = new RpalMessage { Word0 = 1, Word1 = 2, Word2 = 3, Word3 = 4 };
        Assert.Equal([1UL, 2UL, 3UL, 4UL], message.Words.ToArray());
    }

    private static string[] RunLayoutProgram()
    {
        string program = Path.Combine(RepositoryRoot.Path, "artifacts", "native", "release", "bin", "rpal-layout");
        Assert.True(File.Exists(program), $"{program} is missing: build Rpal.Runtime with the release native flavor.");
        using var process = Process.Start(new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "rpal-layout did not finish");
        Assert.Equal(0, process.ExitCode);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static Dictionary<string, string> ManagedLayout()
    {
        var layout = new Dictionary<string, string>();

        Struct<RpalNativeOptions>(layout, "rpal_options",
            ("size", nameof(RpalNativeOptions.Size), 1),
            ("ring_entries", nameof(RpalNativeOptions.RingEntries), 1),
            ("arena_size", nameof(RpalNativeOptions.ArenaSize), 1),
            ("slot_size", nameof(RpalNativeOptions.SlotSize), 1),
            ("window_base", nameof(RpalNativeOptions.WindowBase), 1),
            ("slot_count", nameof(RpalNativeOptions.SlotCount), 1),
            ("max_calls", nameof(RpalNativeOptions.MaxCalls), 1),
            ("spin_ns", nameof(RpalNativeOptions.SpinNs), 1),
            ("runtime_dir", nameof(RpalNativeOptions.RuntimeDir), 1));

        Struct<RpalMessage>(layout, "rpal_msg",
            ("words", nameof(RpalMessage.Word0), RpalMessage.InlineWords),
            ("data", nameof(RpalMessage.Data), 1),
            ("len", nameof(RpalMessage.Length), 1),
            ("id", nameof(RpalMessage.Id), 1),
            ("status", nameof(RpalMessage.Status), 1),
            ("flags", nameof(RpalMessage.Flags), 1));

        Struct<RpalCompletion>(layout, "rpal_completion",
            ("user_data", nameof(RpalCompletion.UserData), 1),
            ("res", nameof(RpalCompletion.Result), 1),
            ("reserved", nameof(RpalCompletion.Reserved), 1),
            ("reply", nameof(RpalCompletion.Reply), 1));

        Struct<RpalNativePeerInfo>(layout, "rpal_peer_info",
            ("pid", nameof(RpalNativePeerInfo.Pid), 1),
            ("uid", nameof(RpalNativePeerInfo.Uid), 1),
            ("gid", nameof(RpalNativePeerInfo.Gid), 1),
            ("slot", nameof(RpalNativePeerInfo.Slot), 1),
            ("key", nameof(RpalNativePeerInfo.Key), 1),
            ("arena_base", nameof(RpalNativePeerInfo.ArenaBase), 1),
            ("arena_size", nameof(RpalNativePeerInfo.ArenaSize), 1),
            ("name", nameof(RpalNativePeerInfo.Name), 1));

        Struct<RpalConnectionStats>(layout, "rpal_conn_stats",
            ("sent", nameof(RpalConnectionStats.Sent), 1),
            ("received", nameof(RpalConnectionStats.Received), 1),
            ("rejected", nameof(RpalConnectionStats.Rejected), 1),
            ("spins", nameof(RpalConnectionStats.Spins), 1),
            ("parks", nameof(RpalConnectionStats.Parks), 1),
            ("wakeups", nameof(RpalConnectionStats.Wakeups), 1),
            ("lent_bytes", nameof(RpalConnectionStats.LentBytes), 1),
            ("ring_entries", nameof(RpalConnectionStats.RingEntries), 1),
            ("req_out_queued", nameof(RpalConnectionStats.RequestsOutQueued), 1),
            ("ctl_out_queued", nameof(RpalConnectionStats.ControlOutQueued), 1),
            ("ctl_out_backlog", nameof(RpalConnectionStats.ControlOutBacklog), 1),
            ("req_in_queued", nameof(RpalConnectionStats.RequestsInQueued), 1),
            ("ctl_in_queued", nameof(RpalConnectionStats.ControlInQueued), 1));

        Struct<RpalNativeFiber>(layout, "rpal_fiber",
            ("sp", nameof(RpalNativeFiber.Sp), 1));

        Struct<RpalNativeLogRecord>(layout, "rpal_log_record",
            ("size", nameof(RpalNativeLogRecord.Size), 1),
            ("level", nameof(RpalNativeLogRecord.Level), 1),
            ("code", nameof(RpalNativeLogRecord.Code), 1),
            ("reserved", nameof(RpalNativeLogRecord.Reserved), 1),
            ("message", nameof(RpalNativeLogRecord.Message), 1));

        Struct<RpalNativeServiceEntry>(layout, "rpal_service_entry",
            ("size", nameof(RpalNativeServiceEntry.Size), 1),
            ("flags", nameof(RpalNativeServiceEntry.Flags), 1),
            ("pid", nameof(RpalNativeServiceEntry.Pid), 1),
            ("slot", nameof(RpalNativeServiceEntry.Slot), 1),
            ("key", nameof(RpalNativeServiceEntry.Key), 1),
            ("connections", nameof(RpalNativeServiceEntry.Connections), 1),
            ("reserved", nameof(RpalNativeServiceEntry.Reserved), 1),
            ("name", nameof(RpalNativeServiceEntry.Name), 1));

        Const(layout, "RPAL_LEVEL_ERROR", RpalEngine.LogLevelError);
        Const(layout, "RPAL_LEVEL_WARNING", RpalEngine.LogLevelWarning);
        Const(layout, "RPAL_LEVEL_INFO", RpalEngine.LogLevelInfo);
        Const(layout, "RPAL_LOG_OTHER", (int)RpalLogCode.Other);
        Const(layout, "RPAL_LOG_RUNTIME_DIR", (int)RpalLogCode.RuntimeDirectory);
        Const(layout, "RPAL_LOG_WINDOW", (int)RpalLogCode.Window);
        Const(layout, "RPAL_LOG_REGISTRY", (int)RpalLogCode.Registry);
        Const(layout, "RPAL_LOG_REGISTRY_REPAIRED", (int)RpalLogCode.RegistryRepaired);
        Const(layout, "RPAL_LOG_LIMIT", (int)RpalLogCode.Limit);
        Const(layout, "RPAL_LOG_PEER_REFUSED", (int)RpalLogCode.PeerRefused);
        Const(layout, "RPAL_LOG_REFUSED_BY_PEER", (int)RpalLogCode.RefusedByPeer);
        Const(layout, "RPAL_LOG_HANDSHAKE_ABORTED", (int)RpalLogCode.HandshakeAborted);
        Const(layout, "RPAL_LOG_HANDSHAKE_INVALID", (int)RpalLogCode.HandshakeInvalid);
        Const(layout, "RPAL_LOG_PROTOCOL_VIOLATION", (int)RpalLogCode.ProtocolViolation);
        Const(layout, "RPAL_LOG_CONN_ENDED", (int)RpalLogCode.ConnectionEnded);
        Const(layout, "RPAL_LOG_SLOT_REUSED", (int)RpalLogCode.SlotReused);
        Const(layout, "RPAL_LOG_WAKE_FAILED", (int)RpalLogCode.WakeFailed);
        Const(layout, "RPAL_SERVICE_LIVE", RpalNativeServiceEntry.Live);

        Struct<RpalEpollEvent>(layout, "epoll_event",
            ("events", nameof(RpalEpollEvent.Events), 1),
            ("data", nameof(RpalEpollEvent.Data), 1));

        Const(layout, "RPAL_VERSION_MAJOR", NativeMethods.VersionMajor);
        Const(layout, "RPAL_VERSION_MINOR", NativeMethods.VersionMinor);
        Const(layout, "RPAL_INLINE_WORDS", RpalMessage.InlineWords);
        Const(layout, "RPAL_NAME_MAX", NativeMethods.NameMax);
        Const(layout, "EPOLLRPALIN", RpalEpollEvents.RpalIn);
        Const(layout, "EPOLLRPALREPLY", RpalEpollEvents.RpalReply);
        Const(layout, "EPOLLRPALHUP", RpalEpollEvents.RpalHangup);
        Const(layout, "EPOLLRPALOUT", RpalEpollEvents.RpalOut);
        Const(layout, "RPAL_MSG_DONTWAIT", RpalMessage.DontWait);
        Const(layout, "EPOLLIN", RpalEpollEvents.In);
        Const(layout, "EPOLLOUT", RpalEpollEvents.Out);
        Const(layout, "EPOLLERR", RpalEpollEvents.Error);
        Const(layout, "EPOLLHUP", RpalEpollEvents.Hangup);
        Const(layout, "EPOLL_CTL_ADD", NativeMethods.EpollCtlAdd);
        Const(layout, "EPOLL_CTL_DEL", NativeMethods.EpollCtlDel);
        Const(layout, "EPOLL_CTL_MOD", NativeMethods.EpollCtlMod);
        Const(layout, "EPOLL_CLOEXEC", NativeMethods.EpollCloexec);
        Const(layout, "EFD_CLOEXEC", LibC.EfdCloexec);
        Const(layout, "EFD_NONBLOCK", LibC.EfdNonblock);

        // Every errno RpalErrno names, by its own name.
        foreach (FieldInfo field in typeof(RpalErrno).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (field.IsLiteral)
            {
                Const(layout, field.Name, (int)field.GetRawConstantValue()!);
            }
        }

        return layout;
    }

    private static void Struct<T>(Dictionary<string, string> layout, string name, params (string C, string CSharp, int Count)[] fields)
        where T : struct
    {
        // Marshal's view (what the runtime passes to C) and the managed layout must agree too.
        Assert.Equal(Marshal.SizeOf<T>(), Unsafe.SizeOf<T>());
        layout[$"{name} sizeof"] = Unsafe.SizeOf<T>().ToString(CultureInfo.InvariantCulture);
        foreach ((string c, string cs, int count) in fields)
        {
            FieldInfo field = typeof(T).GetField(cs, AnyInstance)
                ?? throw new InvalidOperationException($"{typeof(T).Name} has no field {cs}");
            long offset = Marshal.OffsetOf<T>(cs);
            layout[$"{name}.{c}"] = $"{offset} {FieldSize(field) * count}";
        }
    }

    private static int FieldSize(FieldInfo field) =>
        field.GetCustomAttribute<FixedBufferAttribute>() is { } buffer
            ? buffer.Length * Marshal.SizeOf(buffer.ElementType)
            : field.FieldType == typeof(nint) ? IntPtr.Size : Marshal.SizeOf(field.FieldType);

    private static void Const(Dictionary<string, string> layout, string name, long value) =>
        layout[$"const {name}"] = value.ToString(CultureInfo.InvariantCulture);
}
