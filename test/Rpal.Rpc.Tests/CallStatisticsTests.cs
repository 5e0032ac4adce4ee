using System.Text.Json;
using Grpc.Core;
using Rpal.Rpc.Diagnostics;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>The per-method aggregate behind <c>rpal stats</c>: counts by status, and percentiles from its log buckets.</summary>
public sealed class CallStatisticsTests
{
    [Fact]
    public void Percentiles_AreWithinTheBucketsResolution_AndCountsAreExact()
    {
        var random = new Random(20261127);
        var calls = new CallStatistics.MethodCalls();
        double[] seconds = new double[10_000];
        for (int i = 0; i < seconds.Length; i++)
        {
            seconds[i] = 1e-6 * Math.Pow(10, random.NextDouble() * 4); // 1 us .. 10 ms, log-uniform
            calls.Add(i % 10 == 0 ? (int)StatusCode.NotFound : (int)StatusCode.OK, seconds[i]);
        }

        calls.Add(99, 5e-6); // a status code outside gRPC's
        JsonElement m = Write(calls);

        Assert.Equal("Get", m.GetProperty("name").GetString());
        Assert.Equal(10_001, m.GetProperty("calls").GetInt64());
        Assert.Equal(1_001, m.GetProperty("failed").GetInt64());
        Assert.Equal(9_000, m.GetProperty("status").GetProperty("OK").GetInt64());
        Assert.Equal(1_000, m.GetProperty("status").GetProperty("NotFound").GetInt64());
        Assert.Equal(1, m.GetProperty("status").GetProperty("other").GetInt64());

        double[] sorted = [.. seconds.Append(5e-6).Order()];
        JsonElement d = m.GetProperty("duration_us");
        foreach ((string name, double q) in new[] { ("p50", 0.5), ("p90", 0.9), ("p99", 0.99) })
        {
            double exact = sorted[(int)Math.Ceiling(q * sorted.Length) - 1] * 1e6;
            Assert.InRange(d.GetProperty(name).GetDouble(), exact / 1.05, exact * 1.05);
        }

        Assert.Equal(Math.Round(sorted[^1] * 1e6, 1), d.GetProperty("max").GetDouble(), 0.11);
        Assert.Equal(sorted.Average() * 1e6, d.GetProperty("mean").GetDouble(), 0.11);
    }

    [Fact]
    public void VeryShortAndVeryLongCalls_LandInTheEndBuckets()
    {
        var calls = new CallStatistics.MethodCalls();
        calls.Add(0, 10e-9);
        calls.Add(0, 0);
        calls.Add(0, 500); // past the last bucket's start
        JsonElement d = Write(calls).GetProperty("duration_us");
        Assert.Equal(0.1, d.GetProperty("p50").GetDouble());
        Assert.InRange(d.GetProperty("p99").GetDouble(), 100e6, 200e6);
        Assert.Equal(500e6, d.GetProperty("max").GetDouble());
    }

    [Fact]
    public void AMethodWithNoCalls_WritesZeros() =>
        Assert.Equal(0, Write(new CallStatistics.MethodCalls()).GetProperty("duration_us").GetProperty("p99").GetDouble());

    private static JsonElement Write(CallStatistics.MethodCalls calls)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            calls.Write(json, "Get");
        }

        return JsonDocument.Parse(stream.ToArray()).RootElement.Clone();
    }
}
