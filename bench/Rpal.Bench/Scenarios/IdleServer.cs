using Rpal.Rpc;

namespace Rpal.Bench;

/// <summary><c>serve-idle</c>: an <see cref="RpalServer"/> with default options and a trivial service, until stdin closes.</summary>
internal static class IdleServer
{
    public static async Task<int> RunAsync()
    {
        await using var server = new RpalServer();
        server.AddService<IIdleService>(new IdleService());
        await server.StartAsync();
        await ChildProcess.ServeUntilStdinClosesAsync();
        return 0;
    }

    private sealed class IdleService : IIdleService
    {
        public int Ping(int value) => value + 1;
    }
}
