using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>Many threads share one channel; every reply is the answer to its own call.</summary>
[Collection(SharedServerDefinition.Name)]
public sealed class ConcurrencyTests(SharedServerFixture fixture)
{
    private const int Threads = 16;
    private const int CallsPerThread = 10_000;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);

    private readonly IConcurrencyService _client = fixture.Client<IConcurrencyService>();

    [Fact]
    public void SixteenThreads_TenThousandSyncCallsEach_EveryReplyMatchesItsCall()
    {
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int completed = 0;
        using var start = new Barrier(Threads);
        Thread[] threads = [.. Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            start.SignalAndWait();
            for (int i = 0; i < CallsPerThread && errors.IsEmpty; i++)
            {
                var tag = new CallTag(t, i, random.NextInt64());
                try
                {
                    CallTag reply = _client.Echo(tag);
                    if (reply != tag.Answer())
                    {
                        errors.Enqueue($"call {tag} got {reply}");
                    }
                }
                catch (Exception e)
                {
                    errors.Enqueue($"call {tag} threw {e}");
                }

                Interlocked.Increment(ref completed);
            }
        })
        { IsBackground = true, Name = $"caller-{t}" })];

        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(s_timeout), $"a caller did not finish within {s_timeout}; {completed} calls done");
        }

        Assert.Empty(errors);
        Assert.Equal(Threads * CallsPerThread, completed);
    }

    [Fact]
    public async Task SixteenAsyncCallers_TenThousandCallsEach_EveryReplyMatchesItsCall()
    {
        async Task<int> CallerAsync(int t)
        {
            await Task.Yield();
            var random = new Random(1000 + t);
            for (int i = 0; i < CallsPerThread; i++)
            {
                var tag = new CallTag(t, i, random.NextInt64());
                CallTag reply = await _client.EchoAsync(tag);
                Assert.Equal(tag.Answer(), reply);
            }

            return CallsPerThread;
        }

        int[] done = await Task.WhenAll(Enumerable.Range(0, Threads).Select(CallerAsync)).WaitAsync(s_timeout);
        Assert.Equal(Threads * CallsPerThread, done.Sum());
    }
}
