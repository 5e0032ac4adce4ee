using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// The runtime directory, where servers register and clients find them: a server whose directory
/// is removed while it runs makes it again and registers anew, and keeps its name against a second
/// server; a directory that is not private fails connects (FailedPrecondition) and server starts,
/// naming the directory and what is wrong with it. Each test has its own directory; its servers
/// and clients are child processes (this process's engine is bound to the shared directory).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RuntimeDirectoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rpal-rtdir-").FullName;

    private ChildLaunch Launch => new([], new Dictionary<string, string>
    {
        ["RPAL_RUNTIME_DIR"] = _dir,
        ["RPAL_SPIN_NS"] = "0", // waiting is not the point here
    });

    [Fact]
    public async Task AServerWhoseRuntimeDirectoryWasRemoved_RegistersAgain_AndKeepsItsNameAgainstASecondServer()
    {
        using ServerProcess server = await ServerProcess.StartAsync(Launch, ServiceNames.Lifecycle, "--observe");
        Assert.Equal($"{ServerEvents.Connected} {server.Id}", await RunClientAsync());

        // rm -rf while the server is stopped, so that its check cannot race with the removal
        using (server.Suspend())
        {
            Directory.Delete(_dir, recursive: true);
        }

        await server.WaitForLineAsync(
            l => l.StartsWith("log 17 RegistrationRestored Warning ", StringComparison.Ordinal), ServerProcess.EventTimeout, "RegistrationRestored");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_dir));

        // a new client reaches the same server
        Assert.Equal($"{ServerEvents.Connected} {server.Id}", await RunClientAsync());

        // a second server for the name fails to start while the first lives
        using ServerProcess second = ServerProcess.Launch(Launch, ServiceNames.Lifecycle);
        string started = await second.WaitForLineAsync(
            l => l == ServerEvents.Ready || l.StartsWith(ServerEvents.Error + " ", StringComparison.Ordinal), ServerProcess.StartTimeout, "error");
        Assert.StartsWith(ServerEvents.Error + " ", started, StringComparison.Ordinal);
        Assert.Contains("another live process serves it", started, StringComparison.Ordinal);
        Assert.Equal($"{ServerEvents.Connected} {server.Id}", await RunClientAsync());
    }

    [Fact]
    public async Task ConnectAsync_WithARuntimeDirectoryOpenToOthers_FailsWithFailedPrecondition_NamingTheDirectory()
    {
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101); // 0755

        string line = await RunClientAsync();

        Assert.StartsWith($"{ServerEvents.ConnectError} FailedPrecondition ", line, StringComparison.Ordinal);
        Assert.Contains(_dir, line, StringComparison.Ordinal);
        Assert.Contains("mode 0755", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_WithARuntimeDirectoryOpenToOthers_FailsToStart_NamingTheDirectory()
    {
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101); // 0755

        using ServerProcess server = ServerProcess.Launch(Launch, ServiceNames.Lifecycle);
        string line = await server.WaitForLineAsync(
            l => l == ServerEvents.Ready || l.StartsWith(ServerEvents.Error + " ", StringComparison.Ordinal), ServerProcess.StartTimeout, "error");

        Assert.StartsWith($"{ServerEvents.Error} Cannot start the server", line, StringComparison.Ordinal);
        Assert.Contains(_dir, line, StringComparison.Ordinal);
        Assert.Contains("mode 0755", line, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>Runs "connect-client" in the test's directory; returns its "connected PID" or "connect-error ..." line.</summary>
    private async Task<string> RunClientAsync()
    {
        using ServerProcess client = ServerProcess.Launch(Launch, "connect-client");
        return await client.WaitForLineAsync(
            l => l.StartsWith(ServerEvents.Connected + " ", StringComparison.Ordinal) || l.StartsWith(ServerEvents.ConnectError + " ", StringComparison.Ordinal),
            ServerProcess.StartTimeout,
            "connected");
    }
}
