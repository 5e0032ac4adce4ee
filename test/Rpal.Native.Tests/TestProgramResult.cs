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
    IReadOnlyList<string> StandardError);
