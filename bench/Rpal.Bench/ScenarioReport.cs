using System.Text.Json.Serialization;

namespace Rpal.Bench;

/// <summary>
/// What a scenario measured, as written to JSON:
/// <c>{"scenario": ..., "machine": {...}, "results": [{"system": ..., "p50_ns": ..., ...}]}</c>.
/// </summary>
internal sealed class ScenarioReport
{
    [JsonPropertyName("scenario")]
    public required string Scenario { get; init; }

    [JsonPropertyName("machine")]
    public required MachineInfo Machine { get; init; }

    [JsonPropertyName("quick")]
    public bool Quick { get; init; }

    /// <summary>One row per system (and per parameter, e.g. message size), its metrics by name.</summary>
    [JsonPropertyName("results")]
    public List<Dictionary<string, object>> Results { get; init; } = [];

    /// <summary>Sentences printed under the table: ratios, targets met or missed, caveats.</summary>
    [JsonPropertyName("notes")]
    public List<string> Notes { get; init; } = [];
}
