using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>Every method shape crosses the process boundary: sync value and void, Task, Task&lt;T&gt;, ValueTask, ValueTask&lt;T&gt;, with and without a token.</summary>
[Collection(SharedServerDefinition.Name)]
public sealed class MethodShapeTests(SharedServerFixture fixture)
{
    private readonly IMethodShapes _client = fixture.Client<IMethodShapes>();

    [Fact]
    public void SyncMethod_ReturnsTheServersResult()
    {
        Assert.Equal(5, _client.Add(2, 3));
        Assert.Equal(int.MinValue, _client.Add(int.MaxValue, 1));
    }

    [Fact]
    public void SyncMethodWithoutParameters_ReturnsTheServersResult() => Assert.Equal(42, _client.Answer());

    [Fact]
    public void SyncVoidMethod_RunsOnTheServer()
    {
        long key = Tags.Next();
        _client.Store(key, 7);
        Assert.Equal(7, _client.Load(key));
    }

    [Fact]
    public async Task TaskMethod_CompletesAfterTheServerRanIt()
    {
        long key = Tags.Next();
        await _client.StoreTaskAsync(key, 11);
        Assert.Equal(11, _client.Load(key));
    }

    [Fact]
    public async Task TaskOfTMethod_ReturnsTheServersResult() => Assert.Equal(9, await _client.AddTaskAsync(4, 5));

    [Fact]
    public async Task ValueTaskMethod_CompletesAfterTheServerRanIt()
    {
        long key = Tags.Next();
        await _client.StoreValueTaskAsync(key, 13);
        Assert.Equal(13, _client.Load(key));
    }

    [Fact]
    public async Task ValueTaskOfTMethod_ReturnsTheServersResult() => Assert.Equal(-1, await _client.AddValueTaskAsync(-3, 2));

    [Fact]
    public async Task HandlersThatSuspend_AnswerWhenTheyResume()
    {
        Assert.Equal(30, await _client.AddAfterYieldAsync(10, 20));
        Assert.Equal(70, await _client.AddAfterYieldTaskAsync(30, 40));

        long key1 = Tags.Next(), key2 = Tags.Next();
        await _client.StoreAfterYieldAsync(key1, 17);
        await _client.StoreAfterYieldTaskAsync(key2, 19);
        Assert.Equal(17, _client.Load(key1));
        Assert.Equal(19, _client.Load(key2));
    }

    [Fact]
    public void SyncMethodsWithAToken_WorkWithAndWithoutOne()
    {
        using var cts = new CancellationTokenSource();
        Assert.Equal(5, _client.AddWithToken(2, 3, cts.Token));
        Assert.Equal(6, _client.AddWithToken(3, 3, CancellationToken.None));

        long key1 = Tags.Next(), key2 = Tags.Next();
        _client.StoreWithToken(key1, 23, cts.Token);
        _client.StoreWithToken(key2, 29, default);
        Assert.Equal(23, _client.Load(key1));
        Assert.Equal(29, _client.Load(key2));
    }

    [Fact]
    public async Task AsyncMethodsWithAToken_WorkWithAndWithoutOne()
    {
        using var cts = new CancellationTokenSource();
        Assert.Equal(5, await _client.AddWithTokenTaskAsync(2, 3, cts.Token));
        Assert.Equal(6, await _client.AddWithTokenTaskAsync(3, 3));
        Assert.Equal(7, await _client.AddWithTokenAsync(3, 4, cts.Token));
        Assert.Equal(8, await _client.AddWithTokenAsync(4, 4));

        long[] keys = [Tags.Next(), Tags.Next(), Tags.Next(), Tags.Next()];
        await _client.StoreWithTokenTaskAsync(keys[0], 31, cts.Token);
        await _client.StoreWithTokenTaskAsync(keys[1], 37);
        await _client.StoreWithTokenAsync(keys[2], 41, cts.Token);
        await _client.StoreWithTokenAsync(keys[3], 43);
        Assert.Equal([31L, 37, 41, 43], keys.Select(_client.Load).ToArray());
    }

    [Fact]
    public void TheHandlersToken_IsCancellable_WhenTheCallerPassesOne()
    {
        using var cts = new CancellationTokenSource();
        Assert.True(_client.TokenCanBeCanceled(cts.Token));
    }

    [Fact]
    public async Task AHandlerThatSuspends_ContinuesOnItsReceiverThread() =>
        Assert.True(await _client.ResumesOnItsReceiverThreadAsync());

    [Fact]
    public async Task ManyAsyncCallsInFlight_EachGetsItsOwnResult()
    {
        const int Count = 3_000; // more than the engine's 1024 calls in flight per connection: the caller waits for room
        Task<int>[] calls = [.. Enumerable.Range(0, Count).Select(i => _client.AddAfterYieldTaskAsync(i, 1_000_000))];
        int[] results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(1_000_000, Count), results);
    }
}
