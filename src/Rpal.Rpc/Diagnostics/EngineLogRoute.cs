using Microsoft.Extensions.Logging;
using Rpal.Runtime;

namespace Rpal.Rpc.Diagnostics;

/// <summary>
/// Routes the engine's reports (<see cref="RpalEngine.Logged"/>, process-wide) to the category
/// <see cref="RpalLog.EngineCategory"/> of every logger factory a live server or channel was
/// given, each factory once however many servers and channels share it.
/// </summary>
/// <remarks>
/// The event id comes from the code the engine passes with each report (<see cref="RpalLogEntry.Code"/>),
/// never from its text: a peer refused, by this process or by the server (<see cref="RpalLogCode.PeerRefused"/>,
/// <see cref="RpalLogCode.RefusedByPeer"/>, also RpalServiceListener's "refused a client") is
/// <see cref="RpalLog.PeerRefused"/>; a peer that broke the handshake or the protocol in shared
/// memory (<see cref="RpalLogCode.HandshakeInvalid"/>, <see cref="RpalLogCode.ProtocolViolation"/>)
/// is <see cref="RpalLog.PeerProtocolViolation"/>; the rest <see cref="RpalLog.EngineMessage"/>.
/// The handler runs inside the engine, possibly under its locks: it only formats and hands the
/// text to the loggers, each a <see cref="ContainedLogger"/>, so that one that throws neither
/// reaches the engine's thread nor keeps the others from logging.
/// </remarks>
internal static class EngineLogRoute
{
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<ILoggerFactory, (ILogger Logger, int Users)> s_factories = new(ReferenceEqualityComparer.Instance);
    private static ILogger[] s_loggers = [];

    /// <summary>One more user of <paramref name="factory"/> (null: nothing to do).</summary>
    public static void Attach(ILoggerFactory? factory)
    {
        if (factory is null)
        {
            return;
        }

        lock (s_lock)
        {
            if (s_factories.TryGetValue(factory, out (ILogger Logger, int Users) entry))
            {
                s_factories[factory] = (entry.Logger, entry.Users + 1);
                return;
            }

            if (s_factories.Count == 0)
            {
                RpalEngine.Logged += OnLog;
            }

            s_factories[factory] = (ContainedLogger.Create(factory, RpalLog.EngineCategory), 1);
            s_loggers = [.. s_factories.Values.Select(v => v.Logger)];
        }
    }

    /// <summary>One user of <paramref name="factory"/> less.</summary>
    public static void Detach(ILoggerFactory? factory)
    {
        if (factory is null)
        {
            return;
        }

        lock (s_lock)
        {
            if (!s_factories.TryGetValue(factory, out (ILogger Logger, int Users) entry))
            {
                return;
            }

            if (entry.Users > 1)
            {
                s_factories[factory] = (entry.Logger, entry.Users - 1);
                return;
            }

            s_factories.Remove(factory);
            s_loggers = [.. s_factories.Values.Select(v => v.Logger)];
            if (s_factories.Count == 0)
            {
                RpalEngine.Logged -= OnLog;
            }
        }
    }

    private static void OnLog(RpalLogEntry entry)
    {
        foreach (ILogger logger in Volatile.Read(ref s_loggers))
        {
            Route(logger, entry);
        }
    }

    /// <summary>Logs <paramref name="entry"/> to <paramref name="logger"/> under the event its code names.</summary>
    internal static void Route(ILogger logger, in RpalLogEntry entry)
    {
        LogLevel level = entry.Level switch
        {
            RpalEngine.LogLevelError => LogLevel.Error,
            RpalEngine.LogLevelWarning => LogLevel.Warning,
            _ => LogLevel.Information,
        };

        switch (entry.Code)
        {
            case RpalLogCode.PeerRefused:
            case RpalLogCode.RefusedByPeer:
                RpalLog.PeerRefused(logger, level, entry.Message);
                break;
            case RpalLogCode.HandshakeInvalid:
            case RpalLogCode.ProtocolViolation:
                RpalLog.PeerProtocolViolation(logger, level, entry.Message);
                break;
            default:
                RpalLog.EngineMessage(logger, level, entry.Message);
                break;
        }
    }
}
