using Microsoft.Extensions.Logging;

namespace Rpal.Rpc.Diagnostics;

/// <summary>
/// An application's <see cref="ILogger"/> whose failures stay here: Rpal logs on receiver threads
/// (a client connected, a handler failed, the engine refused a peer), and a logger that throws
/// there (a sink that cannot write, a provider's bug) must not take a receiver, or the connection
/// being accepted, down with it. What such a logger could not log is dropped.
/// </summary>
internal sealed class ContainedLogger(ILogger inner) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull
    {
        try
        {
            return inner.BeginScope(state);
        }
#pragma warning disable CA1031 // A logger's failure must not reach Rpal's threads.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    public bool IsEnabled(LogLevel logLevel)
    {
        try
        {
            return inner.IsEnabled(logLevel);
        }
#pragma warning disable CA1031 // A logger's failure must not reach Rpal's threads.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
#pragma warning disable CA1031 // A logger's failure must not reach Rpal's threads.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>A contained logger of <paramref name="factory"/>'s <paramref name="category"/>; creating it may throw too (then a logger that logs nothing).</summary>
    public static ILogger Create(ILoggerFactory factory, string category)
    {
        try
        {
            return new ContainedLogger(factory.CreateLogger(category));
        }
#pragma warning disable CA1031 // A logger's failure must not reach Rpal's threads.
        catch (Exception)
#pragma warning restore CA1031
        {
            return Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        }
    }
}
