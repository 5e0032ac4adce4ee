namespace Rpal.Bench;

/// <summary>The bench program's command line.</summary>
internal sealed class BenchOptions
{
    /// <summary>--quick: a short run (CI's smoke test): few iterations, no timing claims.</summary>
    public bool Quick { get; init; }

    /// <summary>--json PATH: where the scenario's JSON goes (none when null).</summary>
    public string? JsonPath { get; init; }

    /// <summary>--markdown PATH: where the scenario's markdown table goes (stdout always gets it).</summary>
    public string? MarkdownPath { get; init; }

    /// <summary>--plots DIR: where PNG plots go (none when null).</summary>
    public string? PlotDirectory { get; init; }

    /// <summary>--messages N: messages or calls to time (the scenario's default when null).</summary>
    public long? Messages { get; init; }

    /// <summary>Options a scenario reads itself (--name value), by name without the dashes.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();
}
