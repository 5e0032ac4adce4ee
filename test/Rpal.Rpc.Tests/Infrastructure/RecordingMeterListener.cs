using System.Diagnostics.Metrics;
using Rpal.Rpc.Diagnostics;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>One measurement of an Rpal instrument, its tags as a dictionary.</summary>
internal sealed record MeasurementEntry(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public object? this[string tag] => Tags.GetValueOrDefault(tag);
}

/// <summary>
/// Listens to every instrument of the meter <see cref="RpalMetrics.MeterName"/> in this process
/// and keeps the measurements tagged with one service (other tests' calls are not counted).
/// </summary>
internal sealed class RecordingMeterListener : IDisposable
{
    private readonly MeterListener _listener;
    private readonly string _service;
    private readonly Lock _lock = new();
    private readonly List<MeasurementEntry> _entries = [];

    public RecordingMeterListener(string service)
    {
        _service = service;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RpalMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    /// <summary>The measurements of <paramref name="instrument"/> so far.</summary>
    public IReadOnlyList<MeasurementEntry> Of(string instrument)
    {
        lock (_lock)
        {
            return [.. _entries.Where(e => e.Instrument == instrument)];
        }
    }

    /// <summary>Reads the observable instruments now (their measurements join the others).</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dict = new Dictionary<string, object?>();
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            dict[tag.Key] = tag.Value;
        }

        if (!Equals(dict.GetValueOrDefault("rpc.service"), _service))
        {
            return;
        }

        lock (_lock)
        {
            _entries.Add(new MeasurementEntry(instrument.Name, value, dict));
        }
    }
}
