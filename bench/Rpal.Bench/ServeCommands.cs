namespace Rpal.Bench;

/// <summary>
/// The "serve-*" commands: this program started again as the server side of a scenario. Each
/// prints "ready" on stdout when it serves, and exits when its stdin closes.
/// </summary>
internal static class ServeCommands
{
    public static bool TryRun(string[] args, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Task<int>? serving)
    {
        serving = args[0] switch
        {
            "serve" => Server.BenchServer.RunAsync(args[1..]),
            "serve-seed" => SeedServer.RunAsync(args),
            "serve-idle" => IdleServer.RunAsync(),
            _ => null,
        };
        return serving is not null;
    }
}
