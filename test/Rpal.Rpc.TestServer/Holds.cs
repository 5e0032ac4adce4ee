using Rpal.Rpc.TestContracts;
using System.Collections.Concurrent;

namespace Rpal.Rpc.TestServer;

/// <summary>Calls held in flight until the test releases them by tag (stdin "release TAG").</summary>
internal static class Holds
{
    private static readonly ConcurrentDictionary<int, TaskCompletionSource> s_holds = new();

    /// <summary>Completes when <paramref name="tag"/> is released (at once if it was released before).</summary>
    public static Task WhenReleased(int tag) => Get(tag).Task;

    public static void Release(int tag) => Get(tag).TrySetResult();

    /// <summary>
    /// Writes "held TAG", waits until <paramref name="tag"/> is released or the token fires, and
    /// then writes "token-fired TAG" and throws OperationCanceledException.
    /// </summary>
    public static async Task HoldAsync(int tag, CancellationToken cancellationToken)
    {
        Events.Write(ServerEvents.Held, tag);
        try
        {
            await WhenReleased(tag).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Events.Write(ServerEvents.TokenFired, tag);
            throw;
        }
    }

    private static TaskCompletionSource Get(int tag) =>
        s_holds.GetOrAdd(tag, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
