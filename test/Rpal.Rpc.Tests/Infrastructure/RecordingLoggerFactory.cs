using Microsoft.Extensions.Logging;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>One log entry as <see cref="RecordingLoggerFactory"/> saw it.</summary>
internal sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message);

/// <summary>
/// A logger factory that keeps every entry of every level, for LoggingTests; tests wait for an
/// entry with <see cref="WaitForAsync"/>.
/// </summary>
internal sealed class RecordingLoggerFactory : ILoggerFactory
{
    private readonly Lock _lock = new();
    private readonly List<LogEntry> _entries = [];
    private readonly List<(Func<LogEntry, bool> Match, TaskCompletionSource<LogEntry> Done)> _waiters = [];

    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    /// <summary>The first entry (earlier ones count) that <paramref name="match"/> accepts.</summary>
    public async Task<LogEntry> WaitForAsync(Func<LogEntry, bool> match, string description)
    {
        TaskCompletionSource<LogEntry> done;
        lock (_lock)
        {
            if (_entries.FirstOrDefault(match) is { } seen)
            {
                return seen;
            }

            done = new TaskCompletionSource<LogEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, done));
        }

        try
        {
            return await done.Task.WaitAsync(ServerProcess.EventTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no log entry {description}; logged:\n" + string.Join("\n", Entries));
        }
    }

    /// <summary>Waits for the event <paramref name="id"/> in <paramref name="category"/>.</summary>
    public Task<LogEntry> WaitForAsync(string category, int id) =>
        WaitForAsync(e => e.Category == category && e.EventId.Id == id, $"{category}/{id}");

    private void Add(LogEntry entry)
    {
        lock (_lock)
        {
            _entries.Add(entry);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(entry))
                {
                    _waiters[i].Done.TrySetResult(entry);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private sealed class Logger(RecordingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(new LogEntry(category, logLevel, eventId, formatter(state, exception)));
    }
}
