using System.Globalization;

namespace Rpal.Rpc.TestContracts;

/// <summary>
/// The line protocol between a test and Rpal.Rpc.TestServer. The server writes one event per
/// line on stdout; the test writes one command per line on stdin; the server exits when its
/// stdin closes.
/// </summary>
public static class ServerEvents
{
    /// <summary>Stdout: the services are registered and served.</summary>
    public const string Ready = "ready";

    /// <summary>Stdout, "error MESSAGE": the server could not start (it then exits with 3).</summary>
    public const string Error = "error";

    /// <summary>Stdout, "held TAG": a handler holding call TAG is running.</summary>
    public const string Held = "held";

    /// <summary>Stdout, "token-fired TAG": the server-side cancellation token of call TAG fired.</summary>
    public const string TokenFired = "token-fired";

    /// <summary>Stdout: StopAsync was called. Stdin: call StopAsync.</summary>
    public const string Stopping = "stopping";

    /// <summary>Stdout, "stopped MS": StopAsync returned after MS milliseconds.</summary>
    public const string Stopped = "stopped";

    /// <summary>Stdin: call StopAsync (the server stays up until stdin closes).</summary>
    public const string Stop = "stop";

    /// <summary>Stdin, "release TAG": let the held call TAG return.</summary>
    public const string Release = "release";

    /// <summary>Stdout of "connect-client", "connected PID": it reached the server with process id PID.</summary>
    public const string Connected = "connected";

    /// <summary>Stdout of "connect-client", "connect-error CODE DETAIL": its connect failed with RpcException.</summary>
    public const string ConnectError = "connect-error";

    /// <summary>"NAME TAG".</summary>
    public static string WithTag(string name, int tag) => name + " " + tag.ToString(CultureInfo.InvariantCulture);
}
