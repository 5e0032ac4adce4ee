// The Rpal benchmark suite (docs/performance.md).
//
//   dotnet run -c Release --project bench/Rpal.Bench -- SCENARIO [--quick] [--json PATH]
//       [--markdown PATH] [--plots DIR] [--messages N] [--NAME VALUE]...
//   dotnet run -c Release --project bench/Rpal.Bench -- all [--quick] [--out DIR]
//   dotnet run -c Release --project bench/Rpal.Bench -- soak [--clients N] [--calls N] [--quick] [--json PATH]
//
// Each scenario states the machine, pins its two sides to different cores where it can, warms
// up first, prints a markdown table and writes the JSON and plots asked for. Exit codes: 0 done,
// 1 a scenario failed, 2 bad command line. Scenarios that need a server process start this
// program again as that process (the "serve-*" commands, not meant to be run by hand). soak
// (Soak/SoakCommand.cs) is a correctness and memory check rather than a timing: not in "all".

using System.Globalization;
using Rpal.Bench;

IScenario[] scenarios = Scenarios.All;

if (args.Length > 0 && ServeCommands.TryRun(args, out Task<int>? serving))
{
    return await serving;
}

// plot --in DIR [--out DIR]: PNGs from JSON files; publish [--quick]: every scenario, the plots and
// docs/performance.md.
if (args.Length > 0 && args[0] is "plot" or "publish")
{
    return args[0] == "plot" ? Rpal.Bench.Plots.PlotCommand.Run(args[1..]) : await PublishCommand.RunAsync(args[1..], scenarios);
}

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Usage(scenarios);
    return args.Length == 0 ? 2 : 0;
}

BenchOptions options;
string? outDirectory = null;
try
{
    (options, outDirectory) = Parse(args[1..]);
}
catch (FormatException e)
{
    Console.Error.WriteLine($"rpal-bench: {e.Message}");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

if (args[0] == "soak")
{
    return await Rpal.Bench.Soak.SoakCommand.RunAsync(outDirectory is null ? options : new BenchOptions
    {
        Quick = options.Quick,
        Messages = options.Messages,
        Extra = options.Extra,
        JsonPath = Path.Combine(outDirectory, "soak.json"),
        MarkdownPath = Path.Combine(outDirectory, "soak.md"),
    }, cancel.Token);
}

IScenario[] chosen = args[0] == "all" ? scenarios : [.. scenarios.Where(s => s.Name == args[0])];
if (chosen.Length == 0)
{
    Console.Error.WriteLine($"rpal-bench: unknown scenario '{args[0]}'");
    Usage(scenarios);
    return 2;
}

int failed = 0;
foreach (IScenario scenario in chosen)
{
    BenchOptions effective = outDirectory is null ? options : new BenchOptions
    {
        Quick = options.Quick,
        Messages = options.Messages,
        Extra = options.Extra,
        JsonPath = Path.Combine(outDirectory, scenario.Name + ".json"),
        MarkdownPath = Path.Combine(outDirectory, scenario.Name + ".md"),
        PlotDirectory = outDirectory,
    };
    try
    {
        Console.Error.WriteLine($"rpal-bench: {scenario.Name}{(effective.Quick ? " (quick)" : "")} on {MachineInfo.Current}");
        ScenarioReport report = await scenario.RunAsync(effective, cancel.Token);
        await ReportWriter.WriteAsync(report, effective);
        foreach (string png in effective.PlotDirectory is { } plots ? Rpal.Bench.Plots.PlotRenderer.Render(report, plots) : [])
        {
            Console.Error.WriteLine($"rpal-bench: wrote {png}");
        }
    }
    catch (Exception e) when (e is not OperationCanceledException || !cancel.IsCancellationRequested)
    {
        Console.Error.WriteLine($"rpal-bench: {scenario.Name} failed: {e}");
        failed++;
    }
}

return failed == 0 ? 0 : 1;

static (BenchOptions Options, string? OutDirectory) Parse(string[] args)
{
    bool quick = false;
    string? json = null, markdown = null, plots = null, outDir = null;
    long? messages = null;
    var extra = new Dictionary<string, string>();
    for (int i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
        switch (args[i])
        {
            case "--quick": quick = true; break;
            case "--json": json = Value(); break;
            case "--markdown": markdown = Value(); break;
            case "--plots": plots = Value(); break;
            case "--out": outDir = Value(); break;
            case "--messages":
                messages = long.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0
                    ? n
                    : throw new FormatException("--messages takes a positive whole number");
                break;
            case var name when name.StartsWith("--", StringComparison.Ordinal):
                extra[name[2..]] = Value();
                break;
            default:
                throw new FormatException($"unexpected argument '{args[i]}'");
        }
    }

    if (outDir is not null)
    {
        Directory.CreateDirectory(outDir);
    }

    return (new BenchOptions { Quick = quick, JsonPath = json, MarkdownPath = markdown, PlotDirectory = plots, Messages = messages, Extra = extra }, outDir);
}

static void Usage(IScenario[] scenarios)
{
    Console.Error.WriteLine("usage: rpal-bench SCENARIO|all [--quick] [--json PATH] [--markdown PATH] [--plots DIR] [--out DIR] [--messages N]");
    foreach (IScenario s in scenarios)
    {
        Console.Error.WriteLine($"  {s.Name,-11} {s.Description}");
    }

    Console.Error.WriteLine("       rpal-bench soak [--clients N] [--calls N] [--in-flight N] [--spin-us N] [--warmup-percent N] [--stall-seconds N] [--quick] [--json PATH] [--markdown PATH]");
    Console.Error.WriteLine($"  {"soak",-11} {Rpal.Bench.Soak.SoakCommand.Description}");
}
