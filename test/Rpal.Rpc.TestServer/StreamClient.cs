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

    /// <summary>
    /// "stream-reader N": a client process that reads N endless server streams of the
    /// backpressure service (MakeMany) as fast as they come, writes "ready" once each stream has
    /// delivered an element, and reads on until it is killed (BoundedWaitTests stops it).
    /// </summary>
    public static async Task<int> RunReaderAsync(int streams)
    {
        await using RpalChannel channel = await RpalChannel.ConnectAsync(ServiceNames.Backpressure);
        IBackpressureService client = channel.CreateClient<IBackpressureService>();
        int started = 0;
        Task[] readers = Enumerable.Range(0, streams).Select(_ => Task.Run(async () =>
        {
            bool first = true;
            await foreach (byte[] _ in client.MakeMany(int.MaxValue, 64))
            {
                if (first && Interlocked.Increment(ref started) == streams)
                {
                    Events.Write(ServerEvents.Ready);
                }

                first = false;
            }
        })).ToArray();
        await Task.WhenAll(readers);
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
