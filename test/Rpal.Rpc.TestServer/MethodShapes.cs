using System.Collections.Concurrent;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

internal sealed class MethodShapes : IMethodShapes
{
    private readonly ConcurrentDictionary<long, long> _store = new();

    public int Add(int a, int b) => a + b;

    public int Answer() => 42;

    public void Store(long key, long value) => _store[key] = value;

    public long Load(long key) => _store.TryGetValue(key, out long value) ? value : -1;

    public Task StoreTaskAsync(long key, long value)
    {
        Store(key, value);
        return Task.CompletedTask;
    }

    public Task<int> AddTaskAsync(int a, int b) => Task.FromResult(a + b);

    public ValueTask StoreValueTaskAsync(long key, long value)
    {
        Store(key, value);
        return default;
    }

    public ValueTask<int> AddValueTaskAsync(int a, int b) => new(a + b);

    public async ValueTask<int> AddAfterYieldAsync(int a, int b)
    {
        await Task.Yield();
        return a + b;
    }

    public async Task<int> AddAfterYieldTaskAsync(int a, int b)
    {
        await Task.Yield();
        return a + b;
    }

    public async ValueTask StoreAfterYieldAsync(long key, long value)
    {
        await Task.Yield();
        Store(key, value);
    }

    public async Task StoreAfterYieldTaskAsync(long key, long value)
    {
        await Task.Yield();
        Store(key, value);
    }

    public int AddWithToken(int a, int b, CancellationToken cancellationToken) => a + b;

    public void StoreWithToken(long key, long value, CancellationToken cancellationToken) => Store(key, value);

    public Task<int> AddWithTokenTaskAsync(int a, int b, CancellationToken cancellationToken = default) => Task.FromResult(a + b);

    public ValueTask<int> AddWithTokenAsync(int a, int b, CancellationToken cancellationToken = default) => new(a + b);

    public Task StoreWithTokenTaskAsync(long key, long value, CancellationToken cancellationToken = default) => StoreTaskAsync(key, value);

    public ValueTask StoreWithTokenAsync(long key, long value, CancellationToken cancellationToken = default) => StoreValueTaskAsync(key, value);

    public bool TokenCanBeCanceled(CancellationToken cancellationToken) => cancellationToken.CanBeCanceled;

    public async ValueTask<bool> ResumesOnItsReceiverThreadAsync()
    {
        int before = Environment.CurrentManagedThreadId;
        await Task.Delay(1); // a timer completes the await on another thread
        return Environment.CurrentManagedThreadId == before;
    }
}
