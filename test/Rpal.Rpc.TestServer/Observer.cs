using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Rpal.Rpc.Diagnostics;

namespace Rpal.Rpc.TestServer;

/// <summary>
/// "--observe" (LoggingTests, MetricsTests): what the server logs and measures, written to stdout
/// as "log ID NAME LEVEL CATEGORY: MESSAGE" and "metric INSTRUMENT VALUE TAG=VALUE...". The command
/// "observe" reads the observable instruments (in flight, connections, the engine's counters) now.
/// </summary>
internal static class Observer
{
    public const string LogPrefix = "log";
    public const string MetricPrefix = "metric";

    public static MeterListener StartListening()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RpalMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Write(i, v, tags));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Write(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Write(i, v, tags));
        listener.Start();
        return listener;
    }

    private static void Write<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : IFormattable
    {
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"{MetricPrefix} {instrument.Name} {value.ToString(null, CultureInfo.InvariantCulture)}");
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            line.Append(CultureInfo.InvariantCulture, $" {tag.Key}={tag.Value}");
        }

        Events.Write(line.ToString());
    }
}

/// <summary>A logger factory whose loggers write every entry to stdout (<see cref="Observer"/>).</summary>
internal sealed class EventLoggerFactory : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new EventLogger(categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class EventLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string message = formatter(state, exception);
            if (exception is not null)
            {
                message += $" | {exception.GetType().Name}: {exception.Message}";
            }

            message = message.ReplaceLineEndings(" ");
            Events.Write($"{Observer.LogPrefix} {eventId.Id} {eventId.Name} {logLevel} {category}: {message}");
        }
    }
}
