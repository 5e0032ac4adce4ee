using System.Text;
using Microsoft.Extensions.Logging;

namespace Rpal.Rpc.TestServer;

/// <summary>
/// "--throwing-stderr" and "--throwing-logger" (LogSinkFailureTests): log sinks that throw on every
/// write, as a Console.Error whose fd is gone or a broken logging provider would.
/// </summary>
internal static class ThrowingLogs
{
    /// <summary>A writer that throws on every write.</summary>
    public sealed class Writer : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => throw new IOException("stderr is broken (test)");

        public override void Write(string? value) => throw new IOException("stderr is broken (test)");

        public override void WriteLine(string? value) => throw new IOException("stderr is broken (test)");
    }

    /// <summary>A logger factory whose loggers are enabled for everything and throw on every entry.</summary>
    public sealed class LoggerFactory : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new Logger();

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }

    private sealed class Logger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => throw new InvalidOperationException("the logger is broken (test)");

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            throw new InvalidOperationException("the logger is broken (test)");
    }
}
