namespace Rpal.Rpc.TestContracts;

/// <summary>Every method shape: sync value and void, Task, Task&lt;T&gt;, ValueTask, ValueTask&lt;T&gt;, with and without a trailing CancellationToken, completing at once or after suspending.</summary>
[RpalService(ServiceNames.Shapes)]
public interface IMethodShapes
{
    int Add(int a, int b);

    int Answer();

    void Store(long key, long value);

    long Load(long key);

    Task StoreTaskAsync(long key, long value);

    Task<int> AddTaskAsync(int a, int b);

    ValueTask StoreValueTaskAsync(long key, long value);

    ValueTask<int> AddValueTaskAsync(int a, int b);

    /// <summary>Suspends (Task.Yield) before it answers.</summary>
    ValueTask<int> AddAfterYieldAsync(int a, int b);

    /// <summary>Suspends (Task.Yield) before it answers.</summary>
    Task<int> AddAfterYieldTaskAsync(int a, int b);

    /// <summary>Suspends (Task.Yield) before it stores.</summary>
    ValueTask StoreAfterYieldAsync(long key, long value);

    /// <summary>Suspends (Task.Yield) before it stores.</summary>
    Task StoreAfterYieldTaskAsync(long key, long value);

    int AddWithToken(int a, int b, CancellationToken cancellationToken);

    void StoreWithToken(long key, long value, CancellationToken cancellationToken);

    Task<int> AddWithTokenTaskAsync(int a, int b, CancellationToken cancellationToken = default);

    ValueTask<int> AddWithTokenAsync(int a, int b, CancellationToken cancellationToken = default);

    Task StoreWithTokenTaskAsync(long key, long value, CancellationToken cancellationToken = default);

    ValueTask StoreWithTokenAsync(long key, long value, CancellationToken cancellationToken = default);

    /// <summary>True when the handler's token can be cancelled.</summary>
    bool TokenCanBeCanceled(CancellationToken cancellationToken);

    /// <summary>
    /// Awaits a timer and reports whether the handler continued on the thread it started on
    /// (the receiver thread, per the threading model).
    /// </summary>
    ValueTask<bool> ResumesOnItsReceiverThreadAsync();
}
