using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Rpal.Bench;

/// <summary>Writes a scenario's report: a markdown table on stdout (and to a file), JSON to a file.</summary>
internal static class ReportWriter
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static async Task WriteAsync(ScenarioReport report, BenchOptions options)
    {
        string markdown = Markdown(report);
        Console.WriteLine(markdown);
        if (options.MarkdownPath is { } md)
        {
            await File.WriteAllTextAsync(md, markdown);
        }

        if (options.JsonPath is { } json)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(json))!);
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, s_json));
        }
    }

    /// <summary>The report as markdown: the machine, a table with a column per metric, the notes.</summary>
    public static string Markdown(ScenarioReport report)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"### {report.Scenario}{(report.Quick ? " (quick run)" : "")}\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"Machine: {report.Machine}\n\n");
        List<string> columns = [.. report.Results.SelectMany(r => r.Keys).Distinct()];
        if (columns.Count > 0)
        {
            sb.Append("| ").Append(string.Join(" | ", columns)).Append(" |\n");
            sb.Append('|').Append(string.Concat(columns.Select(_ => " --- |"))).Append('\n');
            foreach (Dictionary<string, object> row in report.Results)
            {
                sb.Append("| ").Append(string.Join(" | ", columns.Select(c => row.TryGetValue(c, out object? v) ? Format(v) : ""))).Append(" |\n");
            }
        }

        foreach (string note in report.Notes)
        {
            sb.Append('\n').Append(note).Append('\n');
        }

        return sb.ToString();
    }

    private static string Format(object value) => value switch
    {
        double d => d.ToString(d >= 100 ? "F0" : "F2", CultureInfo.InvariantCulture),
        float f => f.ToString("F2", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
