namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>
/// How to start a test child other than plainly: a command that runs dotnet (setpriv, to run it as
/// another user or with other groups) and environment variables over
/// <see cref="TestEnvironment.ChildEnvironment"/>.
/// </summary>
internal sealed record ChildLaunch(IReadOnlyList<string> Prefix, IReadOnlyDictionary<string, string> Environment);
