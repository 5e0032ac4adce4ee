using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Rpal.Bench.Plots;

/// <summary>
/// Draws the PNGs of docs/performance.md from the scenarios' JSON files. Each plot needs one
/// scenario's JSON; when that is missing the plot is skipped with a message on stderr, and the
/// others are still drawn. Latencies span orders of magnitude, so their axes are logarithmic
/// (ScottPlot has no log axis: the values are plotted as their logarithm and the ticks label the
/// powers).
/// </summary>
internal static class PlotRenderer
{
    /// <summary>p50 latency against message size (the <c>size</c> scenario).</summary>
    public const string LatencyBySize = "latency-by-size.png";

    /// <summary>Round-trip latency percentiles per system (the <c>rtt</c> scenario).</summary>
    public const string LatencyDistribution = "latency-distribution.png";

    /// <summary>Average cycles per message, epoll against Rpal (the <c>seed</c> scenario).</summary>
    public const string Seed = "seed.png";

    /// <summary>Round-trip p50 against the gap between calls, per system (the <c>paced</c> scenario).</summary>
    public const string PacedLatency = "paced-latency.png";

    /// <summary>CPU time per call, client and server, against the gap between calls, per system (the <c>paced</c> scenario).</summary>
    public const string PacedCpu = "paced-cpu.png";

    private const int Width = 900;
    private const int Height = 560;

    private static readonly (string Key, string Label)[] s_percentiles =
        [("p50_ns", "p50"), ("p90_ns", "p90"), ("p99_ns", "p99"), ("p999_ns", "p99.9"), ("max_ns", "max")];

    /// <summary>Draws every plot whose JSON is in <paramref name="inDirectory"/> into <paramref name="outDirectory"/>; returns the files written.</summary>
    public static List<string> RenderAll(string inDirectory, string outDirectory)
    {
        Directory.CreateDirectory(outDirectory);
        var written = new List<string>();
        Render(inDirectory, outDirectory, "size", LatencyBySize, DrawLatencyBySize, written);
        Render(inDirectory, outDirectory, "rtt", LatencyDistribution, DrawLatencyDistribution, written);
        Render(inDirectory, outDirectory, "seed", Seed, DrawSeed, written);
        Render(inDirectory, outDirectory, "paced", PacedLatency, DrawPacedLatency, written);
        Render(inDirectory, outDirectory, "paced", PacedCpu, DrawPacedCpu, written);
        return written;
    }

    /// <summary>Draws the plots of one scenario's report, if it has any; returns the files written.</summary>
    public static List<string> Render(ScenarioReport report, string outDirectory)
    {
        (string File, Func<ScenarioReport, Plot?> Draw)[] kinds = report.Scenario switch
        {
            "size" => [(LatencyBySize, DrawLatencyBySize)],
            "rtt" => [(LatencyDistribution, DrawLatencyDistribution)],
            "seed" => [(Seed, DrawSeed)],
            "paced" => [(PacedLatency, DrawPacedLatency), (PacedCpu, DrawPacedCpu)],
            _ => [],
        };
        var written = new List<string>();
        foreach ((string file, Func<ScenarioReport, Plot?> draw) in kinds)
        {
            using Plot? plot = draw(report);
            if (plot is null)
            {
                continue;
            }

            Directory.CreateDirectory(outDirectory);
            string path = Path.Combine(outDirectory, file);
            plot.SavePng(path, Width, Height);
            written.Add(path);
        }

        return written;
    }

    private static void Render(string inDirectory, string outDirectory, string scenario, string file,
        Func<ScenarioReport, Plot?> draw, List<string> written)
    {
        ScenarioReport? report = ResultFile.TryLoad(inDirectory, scenario, out string? whyNot);
        if (report is null)
        {
            Console.Error.WriteLine($"rpal-bench: skipping {file}: {whyNot}");
            return;
        }

        using Plot? plot = draw(report);
        if (plot is null)
        {
            Console.Error.WriteLine($"rpal-bench: skipping {file}: {scenario}.json has no rows to plot");
            return;
        }

        string path = Path.Combine(outDirectory, file);
        plot.SavePng(path, Width, Height);
        written.Add(path);
        Console.Error.WriteLine($"rpal-bench: wrote {path}");
    }

    private static Plot? DrawLatencyBySize(ScenarioReport report)
    {
        var series = report.Results
            .Select(r => (System: ResultFile.System(r), Size: ResultFile.Number(r, "size_bytes"), P50: ResultFile.Number(r, "p50_ns")))
            .Where(r => r.Size > 0 && r.P50 > 0)
            .GroupBy(r => r.System)
            .ToList();
        if (series.Count == 0)
        {
            return null;
        }

        Plot plot = NewPlot("p50 latency by message size", report);
        int i = 0;
        foreach (var group in series.OrderBy(g => g.Key == "memcpy" ? 1 : 0))
        {
            var points = group.OrderBy(p => p.Size).ToArray();
            var line = plot.Add.Scatter(
                points.Select(p => Math.Log2(p.Size!.Value)).ToArray(),
                points.Select(p => Math.Log10(p.P50!.Value)).ToArray());
            line.LegendText = group.Key == "memcpy" ? "memcpy of the same bytes" : SystemLabel(group.Key);
            line.Color = Color(i++);
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }

        // Sizes are powers of two, so the size axis is log2 (ticks at whole exponents, no minor ones).
        plot.Axes.Bottom.TickGenerator = new NumericAutomatic
        {
            IntegerTicksOnly = true,
            LabelFormatter = exponent => FormatBytes(Math.Pow(2, exponent)),
        };
        plot.Axes.Left.TickGenerator = LogTicks(FormatNanoseconds);
        plot.XLabel("message size (bytes, log scale)");
        plot.YLabel("p50 latency (log scale)");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Plot? DrawLatencyDistribution(ScenarioReport report)
    {
        var rows = report.Results.Where(r => s_percentiles.Any(p => ResultFile.Number(r, p.Key) > 0)).ToList();
        if (rows.Count == 0)
        {
            return null;
        }

        Plot plot = NewPlot("Round-trip latency percentiles", report);
        double[] xs = [.. Enumerable.Range(0, s_percentiles.Length).Select(x => (double)x)];
        for (int i = 0; i < rows.Count; i++)
        {
            // A percentile the row lacks is drawn as a gap (NaN), not as zero.
            double[] ys = [.. s_percentiles.Select(p => ResultFile.Number(rows[i], p.Key) is > 0 and double v ? Math.Log10(v) : double.NaN)];
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = SystemLabel(ResultFile.System(rows[i]));
            line.Color = Color(i);
            line.LineWidth = 2;
            line.MarkerSize = 8;
        }

        plot.Axes.Bottom.TickGenerator = new NumericManual(xs, [.. s_percentiles.Select(p => p.Label)]);
        plot.Axes.Left.TickGenerator = LogTicks(FormatNanoseconds);
        plot.Axes.SetLimitsX(-0.3, s_percentiles.Length - 0.7);
        plot.XLabel("percentile");
        plot.YLabel("round-trip latency (log scale)");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Plot? DrawSeed(ScenarioReport report)
    {
        var rows = report.Results
            .Select(r => (System: ResultFile.System(r), Average: ResultFile.Number(r, "average_cycles")))
            .Where(r => r.Average > 0)
            .ToList();
        if (rows.Count == 0)
        {
            return null;
        }

        Plot plot = NewPlot("Average cycles per message", report);
        var bars = rows.Select((r, i) => new Bar
        {
            Position = i,
            Value = r.Average!.Value,
            FillColor = Color(i),
            Label = r.Average.Value.ToString("N0", CultureInfo.InvariantCulture),
        }).ToList();
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new NumericManual(
            [.. Enumerable.Range(0, rows.Count).Select(x => (double)x)],
            [.. rows.Select(r => SystemLabel(r.System))]);
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.YLabel("CPU cycles per message (average)");
        return plot;
    }

    private static Plot? DrawPacedLatency(ScenarioReport report) =>
        DrawPaced(report, "rtt_p50_us", "Round-trip p50 by gap between calls", "round-trip p50 (log scale)");

    private static Plot? DrawPacedCpu(ScenarioReport report) =>
        DrawPaced(report, "cpu_total_us", "CPU time per call, client + server, by gap between calls", "CPU per call, both processes (log scale)");

    /// <summary>One line per system: <paramref name="metric"/> (µs) at each gap, the gaps evenly spaced (0 has no logarithm).</summary>
    private static Plot? DrawPaced(ScenarioReport report, string metric, string title, string yLabel)
    {
        var points = report.Results
            .Select(r => (System: ResultFile.Text(r, "transport"), Gap: ResultFile.Number(r, "gap_us"), Value: ResultFile.Number(r, metric)))
            .Where(p => p.Gap >= 0 && p.Value > 0)
            .ToList();
        double[] gaps = [.. points.Select(p => p.Gap!.Value).Distinct().Order()];
        if (gaps.Length == 0)
        {
            return null;
        }

        Plot plot = NewPlot(title, report);
        int i = 0;
        foreach (var line in points.GroupBy(p => p.System))
        {
            var ordered = line.OrderBy(p => p.Gap).ToArray();
            var scatter = plot.Add.Scatter(
                ordered.Select(p => (double)Array.IndexOf(gaps, p.Gap!.Value)).ToArray(),
                ordered.Select(p => Math.Log10(p.Value!.Value * 1000)).ToArray()); // µs to ns, for the ticks' units
            scatter.LegendText = SystemLabel(line.Key);
            scatter.Color = Color(i++);
            scatter.LineWidth = 2;
            scatter.MarkerSize = 7;
        }

        double[] xs = [.. Enumerable.Range(0, gaps.Length).Select(x => (double)x)];
        plot.Axes.Bottom.TickGenerator = new NumericManual(xs, [.. gaps.Select(g => g == 0 ? "0 (back to back)" : FormatNanoseconds(g * 1000))]);
        plot.Axes.Left.TickGenerator = LogTicks(FormatNanoseconds);
        plot.Axes.SetLimitsX(-0.3, gaps.Length - 0.7);
        plot.XLabel("gap between calls (sleep from one call's end to the next's start)");
        plot.YLabel(yLabel);
        plot.ShowLegend(Edge.Right); // beside the plot: seven lines that cross leave no empty corner
        return plot;
    }

    private static Plot NewPlot(string title, ScenarioReport report)
    {
        var plot = new Plot();
        plot.Font.Set(Fonts.Sans);
        plot.Title($"{title}{(report.Quick ? " (quick run)" : "")}\n{report.Machine}");
        plot.Axes.Title.Label.FontSize = 15;
        return plot;
    }

    /// <summary>Ticks at the powers of 10 of a log10 axis, with log-spaced minor ticks between them.</summary>
    private static NumericAutomatic LogTicks(Func<double, string> format) => new()
    {
        MinorTickGenerator = new LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = exponent => format(Math.Pow(10, exponent)),
    };

    private static string FormatBytes(double bytes) => bytes switch
    {
        >= 1 << 30 => Invariant($"{bytes / (1 << 30):0.#} GiB"),
        >= 1 << 20 => Invariant($"{bytes / (1 << 20):0.#} MiB"),
        >= 1 << 10 => Invariant($"{bytes / (1 << 10):0.#} KiB"),
        _ => Invariant($"{bytes:0} B"),
    };

    private static string FormatNanoseconds(double ns) => ns switch
    {
        >= 1e9 => Invariant($"{ns / 1e9:0.#} s"),
        >= 1e6 => Invariant($"{ns / 1e6:0.#} ms"),
        >= 1e3 => Invariant($"{ns / 1e3:0.#} µs"),
        _ => Invariant($"{ns:0.#} ns"),
    };

    private static string Invariant(FormattableString s) => FormattableString.Invariant(s);

    private static string SystemLabel(string system) => system switch
    {
        "rpal" => "Rpal",
        "rpal-engine" => "Rpal engine (C)",
        "uds-epoll" => "Unix socket + epoll",
        "grpc-dotnet-uds" => "grpc-dotnet over UDS",
        "epoll" => "epoll",
        _ => system,
    };

    private static ScottPlot.Color Color(int i) => new ScottPlot.Palettes.Category10().GetColor(i);
}
