namespace Rpal.Bench;

/// <summary>
/// The "serve-*" commands: this program started again as the server side of a scenario. Each
/// prints "ready" on stdout when it serves, and exits when its stdin closes. "soak-client" is a
/// client process of the soak, started the same way.
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
            "serve-soak" => Soak.SoakServer.RunAsync(args[1..]),
            "soak-client" => Soak.SoakClient.RunAsync(args[1..]),
            _ => null,
        };
        return serving is not null;
    }
}
