namespace GreeterExample;

/// <summary>
/// What <see cref="GreeterCalls.RunClientAsync"/> saw over one transport: each call with its
/// answer, and the server processes that answered (from the replies' server_pid).
/// </summary>
internal sealed record ClientReport(string Label, IReadOnlyList<(string Call, string Answer)> Results, IReadOnlySet<int> ServerPids);
