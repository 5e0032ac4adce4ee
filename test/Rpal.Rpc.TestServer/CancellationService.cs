using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

internal sealed class CancellationService : ICancellationService
{
    private static readonly TimeSpan s_giveUp = TimeSpan.FromSeconds(30);

    public async ValueTask<int> WaitForCancellationAsync(int tag, CancellationToken cancellationToken = default)
    {
        Events.Write(ServerEvents.Held, tag);
        try
        {
            await Task.Delay(s_giveUp, cancellationToken);
            return -1;
        }
        catch (OperationCanceledException)
        {
            Events.Write(ServerEvents.TokenFired, tag);
            throw;
        }
    }

    public async Task WaitForCancellationTaskAsync(int tag, CancellationToken cancellationToken = default) =>
        await WaitForCancellationAsync(tag, cancellationToken);

    public int BlockUntilCanceled(int tag, CancellationToken cancellationToken)
    {
        Events.Write(ServerEvents.Held, tag);
        if (!cancellationToken.WaitHandle.WaitOne(s_giveUp))
        {
            return -1;
        }

        Events.Write(ServerEvents.TokenFired, tag);
        throw new OperationCanceledException(cancellationToken);
    }

    public async ValueTask<int> DelayAsync(int milliseconds, CancellationToken cancellationToken = default)
    {
        await Task.Delay(milliseconds, cancellationToken);
        return milliseconds;
    }

    public long DeadlineRemainingMilliseconds()
    {
        DateTime deadline = RpalServerCallContext.Current!.Deadline;
        return deadline == DateTime.MaxValue ? -1 : (long)(deadline - DateTime.UtcNow).TotalMilliseconds;
    }

    public int Ping() => 1;
}
