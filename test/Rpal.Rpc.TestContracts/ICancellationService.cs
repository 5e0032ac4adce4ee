namespace Rpal.Rpc.TestContracts;

/// <summary>
/// Handlers that wait on their cancellation token. Each writes "held TAG" when it starts waiting
/// and "token-fired TAG" when its token fires (<see cref="ServerEvents"/>), then throws
/// OperationCanceledException; a handler whose token never fires gives up after 30 s and returns -1.
/// </summary>
[RpalService(ServiceNames.Cancellation)]
public interface ICancellationService
{
    ValueTask<int> WaitForCancellationAsync(int tag, CancellationToken cancellationToken = default);

    Task WaitForCancellationTaskAsync(int tag, CancellationToken cancellationToken = default);

    /// <summary>Blocks its receiver thread on the token (only a server-side deadline can end it early).</summary>
    int BlockUntilCanceled(int tag, CancellationToken cancellationToken);

    /// <summary>The slow method: answers <paramref name="milliseconds"/> later.</summary>
    ValueTask<int> DelayAsync(int milliseconds, CancellationToken cancellationToken = default);

    /// <summary>Milliseconds left until the call's deadline as the server sees it; -1 without one.</summary>
    long DeadlineRemainingMilliseconds();

    int Ping();
}
