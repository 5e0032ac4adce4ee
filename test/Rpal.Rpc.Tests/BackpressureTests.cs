using System.Globalization;
using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Rpal.Rpc.Tests;

/// <summary>
/// Limits and backpressure across processes: messages larger than a side's limit fail only
/// their call with ResourceExhausted; a client that sends faster than the server answers waits
/// at its channel's limit (bounded by deadline and token) or fails at once, loses nothing, and
/// keeps its memory bounded; the server refuses calls past its per-connection limit. In the
/// non-parallel collection: the waits and the memory bound must not share the machine with
/// the parallel tests.
/// </summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class BackpressureTests(BackpressureServerFixture fixture, ITestOutputHelper output) : IClassFixture<BackpressureServerFixture>
{
    private const int MaxReceive = BackpressureServerFixture.MaxReceive;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    private static ValueTask<RpalChannel> ConnectAsync(RpalChannelOptions? options = null) =>
        TestEnvironment.ConnectAsync(ServiceNames.Backpressure, options);

    private Task<string> WaitHoldingAsync(int gate, int count) =>
        fixture.Server.WaitForLineAsync(string.Create(CultureInfo.InvariantCulture, $"holding {gate} {count}"));

    private void Open(int gate) => fixture.Server.Send($"{ServerEvents.Release} {gate}");

    [Fact]
    public async Task ARequestLargerThanTheServersLimit_FailsThatCallWithResourceExhausted_AndTheConnectionGoesOn()
    {
        await using RpalChannel channel = await ConnectAsync();
        IBackpressureService client = channel.CreateClient<IBackpressureService>();
        int gate = Tags.Next();
        Task<int> other = client.HoldAsync(gate, 1).AsTask(); // a call in flight on the same connection
        await WaitHoldingAsync(gate, 1);

        // encoded with its 4-byte length, the body is 4 bytes over the limit
        RpcException e = Assert.Throws<RpcException>(() => client.Measure(new byte[MaxReceive]));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains($"{MaxReceive + 4} bytes", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains($"limit of {MaxReceive} bytes", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("MaxReceiveMessageSize", e.Status.Detail, StringComparison.Ordinal);

        Assert.Equal(MaxReceive - 4, client.Measure(new byte[MaxReceive - 4])); // exactly the limit
        Assert.Equal(7, client.Echo(7));
        Open(gate);
        Assert.Equal(1, await other.WaitAsync(s_timeout));
    }

    [Fact]
    public async Task AReplyLargerThanTheClientsLimit_FailsThatCallWithResourceExhausted_AndTheNextCallWorks()
    {
        const int Limit = 64 << 10;
        await using RpalChannel channel = await ConnectAsync(new RpalChannelOptions { MaxReceiveMessageSize = Limit });
        IBackpressureService client = channel.CreateClient<IBackpressureService>();

        RpcException e = Assert.Throws<RpcException>(() => client.Make(Limit));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains($"{Limit + 4} bytes", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains($"limit of {Limit} bytes", e.Status.Detail, StringComparison.Ordinal);

        Assert.Equal(Limit - 4, client.Make(Limit - 4).Length);
        Assert.Equal(8, client.Echo(8));
    }

    [Fact]
    public async Task AServerStreamElementLargerThanTheClientsLimit_FailsTheCallWithResourceExhausted()
    {
        const int Limit = 64 << 10;
        await using RpalChannel channel = await ConnectAsync(new RpalChannelOptions { MaxReceiveMessageSize = Limit });
        IBackpressureService client = channel.CreateClient<IBackpressureService>();

        RpcException e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (byte[] _ in client.MakeMany(3, Limit).WithCancellation(CancellationToken.None))
            {
            }
        });
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains($"limit of {Limit} bytes", e.Status.Detail, StringComparison.Ordinal);

        int read = 0;
        await foreach (byte[] item in client.MakeMany(3, Limit - 4))
        {
            Assert.Equal(Limit - 4, item.Length);
            read++;
        }

        Assert.Equal(3, read);
        Assert.Equal(9, client.Echo(9));
    }

    [Fact]
    public async Task AClientStreamElementLargerThanTheServersLimit_FailsTheCallWithResourceExhausted()
    {
        await using RpalChannel channel = await ConnectAsync();
        IBackpressureService client = channel.CreateClient<IBackpressureService>();

        RpcException e = await Assert.ThrowsAsync<RpcException>(() => client.CountAsync(Blobs(3, MaxReceive)).AsTask().WaitAsync(s_timeout));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains($"limit of {MaxReceive} bytes", e.Status.Detail, StringComparison.Ordinal);

        Assert.Equal(3, await client.CountAsync(Blobs(3, MaxReceive - 4)).AsTask().WaitAsync(s_timeout));
        Assert.Equal(10, client.Echo(10));
    }

    [Fact]
    public async Task ARequestLargerThanTheClientsSendLimit_FailsBeforeItIsSent()
    {
        await using RpalChannel channel = await ConnectAsync(new RpalChannelOptions { MaxSendMessageSize = 1000 });
        IBackpressureService client = channel.CreateClient<IBackpressureService>();

        RpcException e = Assert.Throws<RpcException>(() => client.Measure(new byte[1000]));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("1004 bytes", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("MaxSendMessageSize", e.Status.Detail, StringComparison.Ordinal);

        Assert.Equal(996, client.Measure(new byte[996]));
    }

    [Fact]
    public async Task AFloodPastTheChannelsLimit_Waits_ThenEveryCallIsAnsweredExactlyOnce()
    {
        const int Limit = 8, Calls = 100;
        await using RpalChannel channel = await ConnectAsync(new RpalChannelOptions { MaxConcurrentCalls = Limit });
        IBackpressureService client = channel.CreateClient<IBackpressureService>();
        int gate = Tags.Next();

        Task<int>[] calls = [.. Enumerable.Range(0, Calls).Select(id => client.HoldAsync(gate, id).AsTask())];
        await WaitHoldingAsync(gate, Limit);
        Assert.DoesNotContain(calls, c => c.IsCompleted);

        // waiting calls end at their deadline or token without reaching the server
        IBackpressureService withDeadline = channel.CreateClient<IBackpressureService>(
            new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(300)));
        RpcException late = await Assert.ThrowsAsync<RpcException>(() => withDeadline.HoldAsync(gate, -1).AsTask().WaitAsync(s_timeout));
        Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);

        IBackpressureService blocking = channel.CreateClient<IBackpressureService>(
            new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(300)));
        RpcException blocked = Assert.Throws<RpcException>(() => blocking.Echo(-2));
        Assert.Equal(StatusCode.DeadlineExceeded, blocked.StatusCode);

        using var cts = new CancellationTokenSource();
        Task<int> cancelled = client.HoldAsync(gate, -3, cts.Token).AsTask();
        Assert.False(cancelled.IsCompleted);
        await cts.CancelAsync();
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => cancelled.WaitAsync(s_timeout));
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);

        Open(gate);
        int[] answers = await Task.WhenAll(calls).WaitAsync(s_timeout);
        Assert.Equal(Enumerable.Range(0, Calls), answers.Order());
        Assert.Equal(Calls, client.Answered(gate));
        Assert.Equal(Limit, client.MaxHolding(gate));
    }

    [Fact]
    public async Task InFailMode_ACallPastTheChannelsLimit_FailsAtOnceWithResourceExhausted()
    {
        const int Limit = 4;
        await using RpalChannel channel = await ConnectAsync(
            new RpalChannelOptions { MaxConcurrentCalls = Limit, CallLimitBehavior = RpalCallLimitBehavior.Fail });
        IBackpressureService client = channel.CreateClient<IBackpressureService>();
        int gate = Tags.Next();

        Task<int>[] held = [.. Enumerable.Range(0, Limit).Select(id => client.HoldAsync(gate, id).AsTask())];
        await WaitHoldingAsync(gate, Limit);

        ValueTask<int> over = client.HoldAsync(gate, 99);
        Assert.True(over.IsFaulted, "the call past the limit fails before it returns");
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => over.AsTask());
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("MaxConcurrentCalls", e.Status.Detail, StringComparison.Ordinal);

        RpcException blocking = Assert.Throws<RpcException>(() => client.Echo(1));
        Assert.Equal(StatusCode.ResourceExhausted, blocking.StatusCode);

        RpcException stream = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (byte[] _ in client.MakeMany(1, 10))
            {
            }
        });
        Assert.Equal(StatusCode.ResourceExhausted, stream.StatusCode);

        Open(gate);
        Assert.Equal(Enumerable.Range(0, Limit), (await Task.WhenAll(held).WaitAsync(s_timeout)).Order());
        Assert.Equal(5, client.Echo(5));
        Assert.Equal(Limit, client.Answered(gate));
        Assert.Equal(Limit, client.MaxHolding(gate));
    }

    [Fact]
    public async Task ACallPastTheServersPerConnectionLimit_FailsWithResourceExhausted_OtherConnectionsGoOn()
    {
        const int Limit = BackpressureServerFixture.MaxCallsPerConnection;
        await using RpalChannel channel = await ConnectAsync(new RpalChannelOptions { MaxConcurrentCalls = 0 }); // no client limit
        IBackpressureService client = channel.CreateClient<IBackpressureService>();
        int gate = Tags.Next();

        Task<int>[] held = [.. Enumerable.Range(0, Limit).Select(id => client.HoldAsync(gate, id).AsTask())];
        await WaitHoldingAsync(gate, Limit);

        RpcException e = await Assert.ThrowsAsync<RpcException>(() => client.HoldAsync(gate, 99).AsTask().WaitAsync(s_timeout));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("MaxConcurrentCallsPerConnection", e.Status.Detail, StringComparison.Ordinal);

        await using (RpalChannel other = await ConnectAsync())
        {
            Assert.Equal(3, other.CreateClient<IBackpressureService>().Echo(3));
        }

        Open(gate);
        Assert.Equal(Enumerable.Range(0, Limit), (await Task.WhenAll(held).WaitAsync(s_timeout)).Order());
        Assert.Equal(4, client.Echo(4));
        Assert.Equal(Limit, client.Answered(gate));
    }

    [Fact]
    public async Task AClientFloodingASlowServer_LosesNothing_AndItsMemoryStaysBounded()
    {
        // 64 senders, 100 calls of 16 KiB each (100 MiB in all) at a server that takes a
        // millisecond per call, through a channel that lets 8 calls in flight. What the client
        // holds at any time: 8 requests in flight and at most 64 encoded and waiting (about
        // 1.2 MiB of its arena), 64 state machines, the completions. Nothing scales with the
        // calls made, so after 100 MiB sent the managed heap must not have grown by 8 MiB and
        // the process's resident memory (managed heap, native, and the arena pages touched)
        // must not have grown by 32 MiB, a third of what was sent.
        const int Limit = 8, Senders = 64, CallsPerSender = 100, Size = 16 << 10;
        await using RpalChannel channel = await ConnectAsync(new RpalChannelOptions { MaxConcurrentCalls = Limit });
        IBackpressureService client = channel.CreateClient<IBackpressureService>();
        byte[] data = new byte[Size];
        int[] answers = new int[Senders * CallsPerSender];

        async Task FloodAsync(int first, int count, Action? sample)
        {
            for (int i = 0; i < count; i++)
            {
                int id = first + i;
                int answer = await client.SlowAsync(id, data);
                Interlocked.Increment(ref answers[answer]);
                if (i % 10 == 0)
                {
                    sample?.Invoke();
                }
            }
        }

        // warm up (JIT, pools, the arena's first pages), then measure from here
        await Task.WhenAll(Enumerable.Range(0, Senders).Select(s => Task.Run(() => FloodAsync(s * CallsPerSender, 2, null)))).WaitAsync(s_timeout);
        Array.Clear(answers);
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        long rssBefore = Environment.WorkingSet;
        long rssPeak = rssBefore;
        void Sample()
        {
            long rss = Environment.WorkingSet;
            long peak = Volatile.Read(ref rssPeak);
            while (rss > peak && Interlocked.CompareExchange(ref rssPeak, rss, peak) != peak)
            {
                peak = Volatile.Read(ref rssPeak);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Senders).Select(s => Task.Run(() => FloodAsync(s * CallsPerSender, CallsPerSender, Sample)))).WaitAsync(TimeSpan.FromMinutes(3));
        long managedAfter = GC.GetTotalMemory(forceFullCollection: true);

        output.WriteLine($"managed heap: {(managedAfter - managedBefore) >> 10} KiB; resident memory at its peak: {(rssPeak - rssBefore) >> 10} KiB; sent {((long)Senders * CallsPerSender * Size) >> 20} MiB");
        Assert.All(answers, n => Assert.Equal(1, n)); // every call answered exactly once
        Assert.True(managedAfter - managedBefore < 8 << 20, $"the managed heap grew by {(managedAfter - managedBefore) >> 10} KiB");
        Assert.True(rssPeak - rssBefore < 32 << 20, $"the resident memory grew by {(rssPeak - rssBefore) >> 10} KiB at its peak");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AClientStreamWriterWaitingForCredit_StopsAtTheDeadlineOrTheToken(bool byToken)
    {
        // The server reads nothing: the client sends a window of elements, then waits for credit.
        await using RpalChannel channel = await ConnectAsync();
        int gate = Tags.Next();
        using var cts = new CancellationTokenSource();
        IBackpressureService client = channel.CreateClient<IBackpressureService>(
            byToken ? default : new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(500)));
        var producer = new Producer();

        Task<int> call = client.IgnoreStreamAsync(gate, producer.ItemsAsync(), cts.Token).AsTask();
        await WaitHoldingAsync(gate, 1);
        await producer.Blocked.Task.WaitAsync(s_timeout); // a write waits for credit now
        if (byToken)
        {
            await cts.CancelAsync();
        }

        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(s_timeout));
        Assert.Equal(byToken ? StatusCode.Cancelled : StatusCode.DeadlineExceeded, e.StatusCode);
        await producer.Stopped.Task.WaitAsync(s_timeout); // the writer gave up, the input was disposed
        Assert.InRange(producer.Produced, 64, 65); // one window, and the element that waited
        Open(gate);
    }

    /// <summary>An endless input that says when its consumer stops taking elements, and when it was disposed.</summary>
    private sealed class Producer
    {
        private int _produced;

        public TaskCompletionSource Blocked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Produced => Volatile.Read(ref _produced);

        public async IAsyncEnumerable<int> ItemsAsync()
        {
            try
            {
                for (int i = 0; ; i++)
                {
                    await Task.Yield();
                    Interlocked.Increment(ref _produced);
                    if (i == 64)
                    {
                        Blocked.TrySetResult(); // the 65th element: the window of 64 is spent
                    }

                    yield return i;
                }
            }
            finally
            {
                Stopped.TrySetResult();
            }
        }
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Blobs(int count, int size)
    {
        for (int i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return new byte[size];
        }
    }
}
