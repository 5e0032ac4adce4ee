using Rpal.Rpc.Tests.Infrastructure;
using Rpal.Rpc.TestContracts;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// Who may connect, across real processes of different users (tests run as root; children are
/// switched to uid/gid 65534 and given groups with setpriv): a runtime directory shared by a
/// group, a server's allowlist of users and groups, a client's list of trusted server users, both
/// sides refusing a peer they do not admit with a clear error, and the check of the runtime
/// directory at start. Each test has its own shared directory, so the fixed service name does not
/// collide with other tests.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class AccessControlTests : IDisposable
{
    private const uint Nobody = 65534;
    private const uint Group = 47021;         // shares the runtime directory
    private const uint RootOnlyGroup = 47022; // root's clients are in it, 65534 is not

    private readonly string _root;
    private readonly string _shared;
    private readonly List<ServerProcess> _children = [];

    public AccessControlTests()
    {
        // /tmp, searchable by 65534, with a private-to-the-group directory inside
        _root = Directory.CreateTempSubdirectory("rpal-acl-").FullName;
        _shared = Path.Combine(_root, "shared");
        if (!IsRoot)
        {
            return;
        }

        File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        Directory.CreateDirectory(_shared);
        Chown(_shared, 0, Group);
        File.SetUnixFileMode(_shared, SharedMode);
    }

    private static bool IsRoot => Environment.UserName == "root" && File.Exists("/usr/bin/setpriv");

    /// <summary>
    /// Null when uid 65534 can run the test server from this checkout; else the directory it
    /// cannot enter (a clone under /root or any other 0700 directory).
    /// </summary>
    private static string? UnreachableByOthers()
    {
        for (string? dir = Path.GetDirectoryName(TestEnvironment.TestServerPath); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if ((File.GetUnixFileMode(dir) & UnixFileMode.OtherExecute) == 0)
            {
                return dir;
            }
        }

        return null;
    }

    private static void SkipUnlessNobodyCanRunTheServer()
    {
        Skip.IfNot(IsRoot, "needs root and setpriv to run a server as another user");
        string? closed = UnreachableByOthers();
        Skip.If(closed is not null, $"uid {Nobody} cannot enter {closed} (not searchable by others), so it cannot run this checkout's test server; clone into a directory others may enter to run this test");
    }

    private static UnixFileMode SharedMode => UnixFileMode.SetGroup | UnixFileMode.UserRead | UnixFileMode.UserWrite
        | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute;

    [SkippableFact]
    public async Task ServerAdmitsAnAllowedUser_WhomTheClientMustTrust()
    {
        ServerProcess server = await StartServerAsNobody("--allow-uid", "0");

        Assert.Equal("result 5", await RunClient(RootWithGroups(), "--trust-uid", $"{Nobody}"));

        // by default a client trusts only servers of its own user
        string refused = await RunClient(RootWithGroups());
        Assert.StartsWith("status PermissionDenied", refused, StringComparison.Ordinal);
        Assert.Contains("another user", refused, StringComparison.Ordinal);
        Assert.Contains("does not trust", refused, StringComparison.Ordinal); // the engine's reason

        Assert.Equal("result 5", await RunClient(RootWithGroups(), "--trust-uid", $"{Nobody}")); // still serving
        Assert.False(server.HasWritten("error"), server.Diagnostics);
    }

    [SkippableFact]
    public async Task ServerAdmitsAMemberOfAnAllowedGroup()
    {
        await StartServerAsNobody("--allow-gid", $"{RootOnlyGroup}");

        // admitted through a supplementary group; the client trusts the server by its group
        Assert.Equal("result 5", await RunClient(RootWithGroups(Group, RootOnlyGroup), "--trust-gid", $"{Group}"));

        // without that group the same client is refused
        string refused = await RunClient(RootWithGroups(Group), "--trust-gid", $"{Group}");
        Assert.StartsWith("status PermissionDenied", refused, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task ServerRefusesAUserItDoesNotAdmit_OnBothSides_AndGoesOnServing()
    {
        ServerProcess server = await StartServerAsNobody();

        string refused = await RunClient(RootWithGroups(), "--trust-uid", $"{Nobody}");
        Assert.StartsWith("status PermissionDenied", refused, StringComparison.Ordinal);
        Assert.Contains("Permission denied", refused, StringComparison.Ordinal);

        // the server says why in its log (RPAL_LOG=1: stderr), and keeps serving its own user
        await Until(() => server.Diagnostics.Contains("refused pid", StringComparison.Ordinal), server.Diagnostics);
        Assert.Contains("runs as uid 0", server.Diagnostics, StringComparison.Ordinal);
        Assert.Equal("result 5", await RunClient(AsNobody()));
    }

    [SkippableFact]
    public async Task ServerRefusesClientsPastItsConnectionLimit()
    {
        await StartServerAsNobody("--max-connections", "1", "--allow-uid", "0");
        string[] trusting = ["--trust-uid", $"{Nobody}"];

        // one client holds the only place
        ServerProcess holder = ServerProcess.Launch(RootWithGroups(), ["access-client", .. trusting, "--hold"]);
        _children.Add(holder);
        await holder.WaitForLineAsync("result 5", ServerProcess.StartTimeout);

        string refused = await RunClient(RootWithGroups(), trusting);
        Assert.StartsWith("status ResourceExhausted", refused, StringComparison.Ordinal);
        Assert.Contains("MaxConnections", refused, StringComparison.Ordinal);

        // once it leaves (and the server has seen it go), the next client gets in
        holder.Dispose();
        using var timeout = new CancellationTokenSource(ServerProcess.EventTimeout);
        string answer;
        while ((answer = await RunClient(RootWithGroups(), trusting)) != "result 5")
        {
            Assert.StartsWith("status ResourceExhausted", answer, StringComparison.Ordinal);
            Assert.False(timeout.IsCancellationRequested, "the server did not free the place: " + answer);
        }
    }

    [SkippableFact]
    public async Task EngineRefusesARuntimeDirectoryOpenToOthers()
    {
        Skip.IfNot(IsRoot, "needs root and setpriv");
        string open = Path.Combine(_root, "open");
        Directory.CreateDirectory(open);
        File.SetUnixFileMode(open, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var launch = new ChildLaunch([], new Dictionary<string, string> { ["RPAL_RUNTIME_DIR"] = open });

        string line = await RunClient(launch);
        Assert.StartsWith("status FailedPrecondition ", line, StringComparison.Ordinal); // docs/errors.md
        Assert.Contains(open, line, StringComparison.Ordinal);
        Assert.Contains("mode 0700", line, StringComparison.Ordinal);
        Assert.Contains("EPERM", line, StringComparison.Ordinal);

        // a group-shared directory without setgid is refused too, with the way to set it up
        File.SetUnixFileMode(_shared, SharedMode & ~UnixFileMode.SetGroup);
        line = await RunClient(RootWithGroups());
        Assert.Contains("not mode 2770", line, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (ServerProcess child in _children)
        {
            child.Dispose();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Dictionary<string, string> SharedEnvironment => new()
    {
        ["RPAL_RUNTIME_DIR"] = _shared,
        ["RPAL_RUNTIME_GROUP"] = $"{Group}",
        ["HOME"] = _root, // dotnet as 65534 has no home of its own
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
    };

    private ChildLaunch AsNobody()
    {
        SkipUnlessNobodyCanRunTheServer();
        return AsNobodyUnchecked();
    }

    private ChildLaunch AsNobodyUnchecked() => new(
        ["setpriv", $"--reuid={Nobody}", $"--regid={Nobody}", $"--groups={Group}", "--"], SharedEnvironment);

    private ChildLaunch RootWithGroups(params uint[] groups) => new(
        ["setpriv", $"--groups={string.Join(',', groups.Length == 0 ? [Group] : groups)}", "--"], SharedEnvironment);

    private async Task<ServerProcess> StartServerAsNobody(params string[] options)
    {
        SkipUnlessNobodyCanRunTheServer();
        ServerProcess server = await ServerProcess.StartAsync(AsNobody(), [ServiceNames.Shapes, .. options]);
        _children.Add(server);
        return server;
    }

    /// <summary>Runs an access client and returns its one answer line.</summary>
    private static async Task<string> RunClient(ChildLaunch launch, params string[] options)
    {
        using ServerProcess client = ServerProcess.Launch(launch, ["access-client", .. options]);
        string line = await client.WaitForLineAsync(
            l => l.StartsWith("result ", StringComparison.Ordinal) || l.StartsWith("status ", StringComparison.Ordinal),
            ServerProcess.StartTimeout,
            "the access client's answer");
        Assert.Equal(0, await client.WaitForExitAsync(ServerProcess.EventTimeout));
        return line;
    }

    private static async Task Until(Func<bool> condition, string diagnostics)
    {
        using var timeout = new CancellationTokenSource(ServerProcess.EventTimeout);
        while (!condition())
        {
            Assert.False(timeout.IsCancellationRequested, "timed out waiting; " + diagnostics);
            await Task.Delay(20, CancellationToken.None);
        }
    }

    private static void Chown(string path, uint uid, uint gid)
    {
        using var chown = System.Diagnostics.Process.Start("chown", [$"{uid}:{gid}", path]);
        chown.WaitForExit();
        Assert.Equal(0, chown.ExitCode);
    }
}
