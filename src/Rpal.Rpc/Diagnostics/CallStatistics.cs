using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Grpc.Core;

namespace Rpal.Rpc.Diagnostics;

/// <summary>
/// The server calls of this process by service, method and status, with their durations, for
/// <c>rpal stats</c>. Nothing is counted until the first <see cref="Start"/> (a server's first
/// Stats request): from then on a <see cref="MeterListener"/> takes
/// <c>rpal.server.call.duration</c>, which every answered call records with its tags, for the
/// rest of the process's life. Durations go into log-scale buckets (8 per power of two, so a
/// percentile is within 4.5% of the truth) from 100 ns to about 100 s.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One per process, listening for the rest of its life.")]
internal sealed class CallStatistics
{
    private const double SmallestNs = 100;
    private const int BucketsPerDoubling = 8;
    private const int Buckets = 30 * BucketsPerDoubling; // 100 ns * 2^30: 107 s and beyond

    private static CallStatistics? s_instance;

    private readonly ConcurrentDictionary<(string Service, string Method), MethodCalls> _methods = new();
    private readonly MeterListener _listener = new();

    private CallStatistics()
    {
        Since = DateTimeOffset.UtcNow;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RpalMetrics.MeterName && instrument.Name == "rpal.server.call.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnDuration);
        _listener.Start();
    }

    /// <summary>When counting began.</summary>
    public DateTimeOffset Since { get; }

    /// <summary>Starts counting, once per process; the counter.</summary>
    public static CallStatistics Start()
    {
        if (Volatile.Read(ref s_instance) is { } running)
        {
            return running;
        }

        var created = new CallStatistics();
        CallStatistics? won = Interlocked.CompareExchange(ref s_instance, created, null);
        if (won is null)
        {
            return created;
        }

        created._listener.Dispose();
        return won;
    }

    /// <summary>Writes the <c>methods</c> array of <paramref name="service"/>: one object per method called since <see cref="Since"/>.</summary>
    public void WriteMethods(Utf8JsonWriter json, string service)
    {
        json.WriteStartArray("methods");
        foreach (KeyValuePair<(string Service, string Method), MethodCalls> m in _methods.Where(m => m.Key.Service == service).OrderBy(m => m.Key.Method, StringComparer.Ordinal))
        {
            m.Value.Write(json, m.Key.Method);
        }

        json.WriteEndArray();
    }

    private void OnDuration(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? service = null, method = null;
        int code = 0;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            switch (tag.Key)
            {
                case "rpc.service":
                    service = tag.Value as string;
                    break;
                case "rpc.method":
                    method = tag.Value as string;
                    break;
                case "rpc.grpc.status_code":
                    code = tag.Value is int c ? c : -1;
                    break;
            }
        }

        if (service is null || method is null)
        {
            return;
        }

        if (!_methods.TryGetValue((service, method), out MethodCalls? calls))
        {
            calls = _methods.GetOrAdd((service, method), static _ => new MethodCalls());
        }

        calls.Add(code, seconds);
    }

    /// <summary>One method's calls: counts by status, durations by bucket; updated lock-free.</summary>
    internal sealed class MethodCalls
    {
        private readonly long[] _byStatus = new long[17];
        private readonly long[] _buckets = new long[Buckets + 1];
        private long _calls, _otherStatus, _totalNs, _maxNs;

        public void Add(int code, double seconds)
        {
            long ns = (long)(seconds * 1e9);
            Interlocked.Increment(ref _calls);
            Interlocked.Increment(ref (uint)code < (uint)_byStatus.Length ? ref _byStatus[code] : ref _otherStatus);
            Interlocked.Add(ref _totalNs, ns);
            Interlocked.Increment(ref _buckets[Bucket(ns)]);
            long max = Volatile.Read(ref _maxNs);
            while (ns > max)
            {
                long seen = Interlocked.CompareExchange(ref _maxNs, ns, max);
                if (seen == max)
                {
                    break;
                }

                max = seen;
            }
        }

        public void Write(Utf8JsonWriter json, string method)
        {
            // each field is read on its own while calls go on: the counts may differ by a call or two
            long calls = Volatile.Read(ref _calls);
            long[] buckets = [.. _buckets];
            json.WriteStartObject();
            json.WriteString("name", method);
            json.WriteNumber("calls", calls);
            json.WriteNumber("failed", calls - Volatile.Read(ref _byStatus[(int)StatusCode.OK]));
            json.WriteStartObject("status");
            for (int code = 0; code < _byStatus.Length; code++)
            {
                if (Volatile.Read(ref _byStatus[code]) is long n and > 0)
                {
                    json.WriteNumber(((StatusCode)code).ToString(), n);
                }
            }

            if (Volatile.Read(ref _otherStatus) is long other and > 0)
            {
                json.WriteNumber("other", other);
            }

            json.WriteEndObject();
            json.WriteStartObject("duration_us");
            json.WriteNumber("mean", calls == 0 ? 0 : Math.Round(Volatile.Read(ref _totalNs) / 1e3 / calls, 1));
            json.WriteNumber("p50", Percentile(buckets, 0.50));
            json.WriteNumber("p90", Percentile(buckets, 0.90));
            json.WriteNumber("p99", Percentile(buckets, 0.99));
            json.WriteNumber("max", Math.Round(Volatile.Read(ref _maxNs) / 1e3, 1));
            json.WriteEndObject();
            json.WriteEndObject();
        }

        /// <summary>The bucket of a duration: 0 for up to 100 ns, then 8 per doubling.</summary>
        private static int Bucket(long ns) =>
            ns <= SmallestNs ? 0 : Math.Min(Buckets, 1 + (int)(Math.Log2(ns / SmallestNs) * BucketsPerDoubling));

        /// <summary>The q-quantile in microseconds: the geometric middle of the bucket that holds it.</summary>
        private static double Percentile(long[] buckets, double q)
        {
            long total = buckets.Sum();
            if (total == 0)
            {
                return 0;
            }

            long rank = (long)Math.Ceiling(q * total), seen = 0;
            int b = 0;
            while (b < buckets.Length - 1 && (seen += buckets[b]) < rank)
            {
                b++;
            }

            double ns = b == 0 ? SmallestNs : SmallestNs * Math.Pow(2, (b - 0.5) / BucketsPerDoubling);
            return Math.Round(ns / 1e3, ns < 10_000 ? 2 : 1);
        }
    }
}
