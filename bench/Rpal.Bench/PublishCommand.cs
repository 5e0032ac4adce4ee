using Rpal.Bench.Plots;

namespace Rpal.Bench;

/// <summary>
/// <c>publish [--quick] [--docs DIR] [--no-run]</c>: runs every scenario, writes each one's JSON
/// and markdown into docs/performance/, draws the plots there, and regenerates docs/performance.md
/// from those files (<see cref="PublishPage"/>). DIR defaults to the repository's docs/ folder,
/// found from the current directory up. --no-run runs nothing: it redraws the plots and the page
/// from the results already in docs/performance/ (copied there from a run on another machine, or
/// after the template changed), with the hand-written readings of those results beside them
/// (NAME.reading.md), which a run removes. Exit codes: 0 done, 1 a scenario failed (the page is
/// still written, saying which), 2 bad command line.
/// </summary>
internal static class PublishCommand
{
    private const string ResultFolder = "performance";
    private const string PageName = "performance.md";

    public static async Task<int> RunAsync(string[] args, IScenario[] scenarios)
    {
        bool quick = false, run = true;
        string? docs = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--no-run": run = false; break;
                case "--docs" when i + 1 < args.Length: docs = args[++i]; break;
                default:
                    Console.Error.WriteLine($"rpal-bench: unexpected argument '{args[i]}'");
                    Console.Error.WriteLine("usage: rpal-bench publish [--quick] [--docs DIR] [--no-run]");
                    return 2;
            }
        }

        docs ??= FindDocs();
        string results = Path.Combine(docs, ResultFolder);
        Directory.CreateDirectory(results);
        if (run)
        {
            RemoveEarlierResults(results, scenarios);
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        var failed = new List<string>();
        foreach (IScenario scenario in run ? scenarios : [])
        {
            var options = new BenchOptions
            {
                Quick = quick,
                JsonPath = ResultFile.PathOf(results, scenario.Name),
                MarkdownPath = Path.Combine(results, scenario.Name + ".md"),
                PlotDirectory = results,
            };
            try
            {
                Console.Error.WriteLine($"rpal-bench: {scenario.Name}{(quick ? " (quick)" : "")} on {MachineInfo.Current}");
                ScenarioReport report = await scenario.RunAsync(options, cancel.Token);
                await ReportWriter.WriteAsync(report, options);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                Console.Error.WriteLine("rpal-bench: publish cancelled; docs/performance.md left as it was");
                return 1;
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"rpal-bench: {scenario.Name} failed: {e}");
                failed.Add(scenario.Name);
            }
        }

        PlotRenderer.RenderAll(results, results);
        string page = Path.Combine(docs, PageName);
        PublishPage.Write(page, results, scenarios, failed);
        Console.Error.WriteLine($"rpal-bench: wrote {page}");
        return failed.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// Removes the results, plots and readings of an earlier run, so that the page never mixes two
    /// runs: a scenario that fails or is gone this time shows no results rather than old ones, and
    /// no reading of numbers that are gone.
    /// </summary>
    private static void RemoveEarlierResults(string results, IScenario[] scenarios)
    {
        IEnumerable<string> names = scenarios.Select(s => s.Name).Concat(["seed", "rtt", "paced", "size", "throughput", "idle"]).Distinct();
        IEnumerable<string> files = names.SelectMany(n => (string[])[n + ".json", n + ".md", Path.GetFileName(PublishPage.ReadingPath(results, n))])
            .Concat([PlotRenderer.LatencyBySize, PlotRenderer.LatencyDistribution, PlotRenderer.Seed, PlotRenderer.PacedLatency, PlotRenderer.PacedCpu]);
        foreach (string file in files)
        {
            File.Delete(Path.Combine(results, file));
        }
    }

    /// <summary>The docs/ folder of the repository the current directory is in (the one with Rpal.sln); ./docs otherwise.</summary>
    private static string FindDocs()
    {
        for (DirectoryInfo? d = new(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Rpal.sln")))
            {
                return Path.Combine(d.FullName, "docs");
            }
        }

        return Path.Combine(Directory.GetCurrentDirectory(), "docs");
    }
}
