using Microsoft.Extensions.Logging;
using Rpal.Runtime;

namespace Rpal.Rpc.Diagnostics;

/// <summary>
/// Routes the engine's reports (<see cref="RpalEngine.Log"/>, process-wide) to the category
/// <see cref="RpalLog.EngineCategory"/> of every logger factory a live server or channel was
/// given, each factory once however many servers and channels share it.
/// </summary>
/// <remarks>
/// The engine reports in text; the event id is chosen from it: a refused peer (the engine's
/// "refused" reasons, and RpalServiceListener's "refused a client") is
/// <see cref="RpalLog.PeerRefused"/>, a descriptor or release the engine rejected ("NAME: pid N
/// sent ..." / "... which it does not hold") is <see cref="RpalLog.PeerProtocolViolation"/>, the
/// rest <see cref="RpalLog.EngineMessage"/>. The handler runs inside the engine, possibly under
/// its locks: it only formats and hands the text to the loggers, each a <see cref="ContainedLogger"/>,
/// so that one that throws neither reaches the engine's thread nor keeps the others from logging.
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
                RpalEngine.Log += OnLog;
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
                RpalEngine.Log -= OnLog;
            }
        }
    }

    private static void OnLog(int level, string message)
    {
        LogLevel logLevel = level switch
        {
            RpalEngine.LogLevelError => LogLevel.Error,
            RpalEngine.LogLevelWarning => LogLevel.Warning,
            _ => LogLevel.Information,
        };

        foreach (ILogger logger in Volatile.Read(ref s_loggers))
        {
            if (message.Contains("refused", StringComparison.Ordinal))
            {
                RpalLog.PeerRefused(logger, logLevel, message);
            }
            else if ((message.Contains(": pid ", StringComparison.Ordinal) && message.Contains(" sent ", StringComparison.Ordinal)) ||
                message.Contains("which it does not hold", StringComparison.Ordinal))
            {
                RpalLog.PeerProtocolViolation(logger, logLevel, message);
            }
            else
            {
                RpalLog.EngineMessage(logger, logLevel, message);
            }
        }
    }
}
