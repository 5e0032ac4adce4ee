using System.Text;

namespace Rpal.Native.Tests;

/// <summary>What a finished (or killed) test program left behind.</summary>
/// <param name="ExitCode">The exit code, or -1 when the program was still running at the timeout and was killed.</param>
/// <param name="TimedOut">True when the program, or a child holding its output open, outlived the timeout.</param>
/// <param name="StandardOutput">The lines it wrote to stdout.</param>
/// <param name="StandardError">The lines it wrote to stderr.</param>
internal sealed record TestProgramResult(
    int ExitCode,
    bool TimedOut,
    IReadOnlyList<string> StandardOutput,
    IReadOnlyList<string> StandardError)
{
    /// <summary>
    /// The last non-blank line of stdout, else of stderr (test_util.h's test_skip() prints
    /// "skip: &lt;why&gt;" to stdout before exit(77)); null when both are blank.
    /// </summary>
    public string? LastLine() => LastLine(StandardOutput) ?? LastLine(StandardError);

    /// <summary>Both streams, each cut to its last lines, for a failure message.</summary>
    public string FormatOutput()
    {
        var text = new StringBuilder();
        AppendStream(text, "stdout", StandardOutput);
        AppendStream(text, "stderr", StandardError);
        return text.ToString();
    }

    private static string? LastLine(IReadOnlyList<string> output) =>
        output.LastOrDefault(line => !string.IsNullOrWhiteSpace(line))?.Trim();

    private static void AppendStream(StringBuilder text, string stream, IReadOnlyList<string> lines)
    {
        // Sanitizer reports can be long; the end of a stream is where the failure is.
        const int MaxLines = 300;
        text.Append("--- ").Append(stream);
        if (lines.Count == 0)
        {
            text.Append(" (empty)\n");
            return;
        }

        text.Append(" ---\n");
        if (lines.Count > MaxLines)
        {
            text.Append("[... ").Append(lines.Count - MaxLines).Append(" earlier lines omitted]\n");
        }

        foreach (string line in lines.Skip(Math.Max(0, lines.Count - MaxLines)))
        {
            text.Append(line).Append('\n');
        }
    }
}
