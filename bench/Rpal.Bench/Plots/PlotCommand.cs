namespace Rpal.Bench.Plots;

/// <summary>
/// <c>plot --in DIR [--out DIR]</c>: draws the PNGs of docs/performance.md from the scenarios'
/// JSON files in DIR (into DIR itself unless --out says otherwise). Exit codes: 0 done (plots whose
/// JSON is missing are skipped with a message), 2 bad command line.
/// </summary>
internal static class PlotCommand
{
    public static int Run(string[] args)
    {
        string? inDirectory = null, outDirectory = null;
        for (int i = 0; i < args.Length; i++)
        {
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--in" when value is not null: inDirectory = value; i++; break;
                case "--out" when value is not null: outDirectory = value; i++; break;
                default:
                    return Usage($"unexpected argument '{args[i]}'");
            }
        }

        if (inDirectory is null)
        {
            return Usage("--in DIR is required");
        }

        if (!Directory.Exists(inDirectory))
        {
            return Usage($"{inDirectory} is not a directory");
        }

        List<string> written = PlotRenderer.RenderAll(inDirectory, outDirectory ?? inDirectory);
        Console.Error.WriteLine($"rpal-bench: {written.Count} plot(s) written");
        return 0;
    }

    private static int Usage(string error)
    {
        Console.Error.WriteLine($"rpal-bench: {error}");
        Console.Error.WriteLine("usage: rpal-bench plot --in DIR [--out DIR]");
        return 2;
    }
}
