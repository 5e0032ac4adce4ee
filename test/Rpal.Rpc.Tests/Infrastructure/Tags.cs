namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>Numbers no other call of this run uses: they name held calls in the server's events.</summary>
internal static class Tags
{
    private static int s_next;

    public static int Next() => Interlocked.Increment(ref s_next);
}
