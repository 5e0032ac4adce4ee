using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

/// <summary>Writes the server's events (<see cref="ServerEvents"/>) to stdout, one per line.</summary>
internal static class Events
{
    private static readonly Lock s_lock = new();

    public static void Write(string line)
    {
        lock (s_lock)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    public static void Write(string name, int tag) => Write(ServerEvents.WithTag(name, tag));
}
