using System.Runtime.CompilerServices;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

/// <summary>
/// "stream-client TAG": a client process that opens ReadOneThenHoldAsync(TAG) on the streaming
/// service with an endless request stream, writes "ready", and waits to be killed.
/// </summary>
internal static class StreamClient
{
    public static async Task<int> RunAsync(int tag)
    {
        await using RpalChannel channel = await RpalChannel.ConnectAsync(ServiceNames.Streaming);
        IStreamingService client = channel.CreateClient<IStreamingService>();
        Task<long> call = client.ReadOneThenHoldAsync(tag, Endless()).AsTask();
        Events.Write(ServerEvents.Ready);
        await call; // the server holds it until this process dies
        return 1;
    }

    private static async IAsyncEnumerable<long> Endless([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (long i = 0; ; i++)
        {
            yield return i;
            await Task.Delay(1, cancellationToken);
        }
    }
}
