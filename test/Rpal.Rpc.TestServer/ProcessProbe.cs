using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

/// <summary>Serves both <see cref="IKillTarget"/> and <see cref="ILifecycleTarget"/>.</summary>
internal sealed class ProcessProbe : IKillTarget, ILifecycleTarget
{
    public int GetProcessId() => Environment.ProcessId;

    public async ValueTask<int> HoldAsync(int tag, CancellationToken cancellationToken = default)
    {
        Events.Write(ServerEvents.Held, tag);
        try
        {
            await Holds.WhenReleased(tag).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Events.Write(ServerEvents.TokenFired, tag);
            throw;
        }

        return tag;
    }

    public async IAsyncEnumerable<long> StreamForever(int tag, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (long i = 0; ; i++)
        {
            yield return i;
            if (i == 0)
            {
                Events.Write(ServerEvents.Held, tag);
            }

            await Task.Yield();
        }
    }

    public int Hold(int tag)
    {
        Events.Write(ServerEvents.Held, tag);
        Holds.WhenReleased(tag).Wait();
        return tag;
    }
}
