namespace Rpal.Runtime.TestPeer;

/// <summary>
/// What the test peer's server understands: the operation is the request's word 0. Shared with
/// Rpal.Runtime.Tests, which references this project.
/// </summary>
public static class PeerProtocol
{
    /// <summary>Answers with the request's words, status and a copy of its payload.</summary>
    public const ulong Echo = 1;

    /// <summary>Answers with word 1 = one-way messages received so far on this connection, word 2 = the sum of their word 1, word 3 = the sum of their payload bytes.</summary>
    public const ulong OneWayTotals = 2;

    /// <summary>Answers with word 1 = the caller's arena size and word 2 = the caller's pid, as the server's engine sees them.</summary>
    public const ulong DescribeCaller = 3;

    /// <summary>Never answered (the call stays in flight until the connection ends).</summary>
    public const ulong Hold = 4;

    /// <summary>Answered from an async continuation after <c>await Task.Yield()</c>: word 1 = 1 when it ran on the receiver thread.</summary>
    public const ulong AsyncEcho = 5;

    /// <summary>The server's first line on stdout: "ready KEY" once it serves.</summary>
    public const string Ready = "ready";
}
