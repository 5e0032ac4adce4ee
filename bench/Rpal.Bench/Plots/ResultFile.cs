using System.Globalization;
using System.Text.Json;

namespace Rpal.Bench.Plots;

/// <summary>
/// A scenario's JSON as <see cref="ReportWriter"/> wrote it, read back: the plots and
/// docs/performance.md are made from these files, never from a run in memory, so that they can
/// be redrawn from an earlier run's results.
/// </summary>
internal static class ResultFile
{
    /// <summary>The path of scenario <paramref name="name"/>'s JSON in <paramref name="directory"/>.</summary>
    public static string PathOf(string directory, string name) => Path.Combine(directory, name + ".json");

    /// <summary>Reads scenario <paramref name="name"/>'s JSON from <paramref name="directory"/>; null, and why, when it is missing or unreadable.</summary>
    public static ScenarioReport? TryLoad(string directory, string name, out string? whyNot)
    {
        string path = PathOf(directory, name);
        if (!File.Exists(path))
        {
            whyNot = $"{path} is missing";
            return null;
        }

        try
        {
            ScenarioReport? report = JsonSerializer.Deserialize<ScenarioReport>(File.ReadAllText(path));
            if (report is null)
            {
                whyNot = $"{path} holds no report";
                return null;
            }

            // Values come back as JsonElement; as numbers and strings they print (ReportWriter's
            // formats) and compare the way a scenario's own rows do.
            foreach (Dictionary<string, object> row in report.Results)
            {
                foreach ((string key, object value) in row.ToList())
                {
                    row[key] = value is JsonElement e ? Plain(e) : value;
                }
            }

            whyNot = null;
            return report;
        }
        catch (JsonException e)
        {
            whyNot = $"{path} is not a scenario report: {e.Message}";
            return null;
        }
    }

    private static object Plain(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number when e.TryGetInt64(out long l) => l,
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.String => e.GetString() ?? "",
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => e.GetRawText(),
    };

    /// <summary>Row <paramref name="row"/>'s metric <paramref name="key"/> as a number; null when absent or not a number.</summary>
    public static double? Number(Dictionary<string, object> row, string key) =>
        row.TryGetValue(key, out object? value) ? value switch
        {
            JsonElement { ValueKind: JsonValueKind.Number } e => e.GetDouble(),
            JsonElement { ValueKind: JsonValueKind.String } e when double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
            IConvertible c and not string => c.ToDouble(CultureInfo.InvariantCulture),
            _ => null,
        } : null;

    /// <summary>Row <paramref name="row"/>'s <c>system</c> (<c>rpal</c>, <c>epoll</c>, ...); "?" when absent.</summary>
    public static string System(Dictionary<string, object> row) => Text(row, "system");

    /// <summary>Row <paramref name="row"/>'s <paramref name="key"/> as text; "?" when absent.</summary>
    public static string Text(Dictionary<string, object> row, string key) =>
        row.TryGetValue(key, out object? value) ? value switch
        {
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() ?? "?",
            string s => s,
            _ => value.ToString() ?? "?",
        } : "?";
}
