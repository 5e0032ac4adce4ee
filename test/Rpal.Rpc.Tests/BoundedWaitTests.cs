using System.Diagnostics;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Rpal.Rpc.Tests;

/// <summary>
/// No peer can make a wait outlast its deadline or stall anyone else: calls to a stopped server
/// end at their deadlines whatever limit fills first (the channel's limiter, the request ring,
/// the engine's call slots), and a client that stops reading its streams delays only its own
/// streams, never the server's other clients. Each test runs its own server (one receiver
/// thread) and stops processes with SIGSTOP. In the non-parallel collection: the deadlines are
/// measured.
/// </summary>
[Collection(TimingSensitiveDefinition.Name)]
public sealed class BoundedWaitTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromMilliseconds(200);

    // What a call may take beyond its deadline on a loaded 2-core machine (sanitizer-free build).
    private static readonly TimeSpan s_slack = TimeSpan.FromMilliseconds(1500);

    [Fact]
    public async Task BlockingCallsToAStoppedServer_EndAtTheirDeadlines_AndStillCountUntilTheServerAnswers()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Backpressure, "--receivers", "1");
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Backpressure);
        IBackpressureService client = channel.CreateClient<IBackpressureService>();
        Assert.Equal(1, client.Echo(1));

        // 32 threads x 10 calls: more than the channel's limiter (128) and the request ring (256)
        const int Threads = 32, Calls = 10;
        var worst = new long[Threads];
        var unexpected = new Exception?[Threads];
        using (server.Suspend())
        {
            var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                for (int i = 0; i < Calls; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    try
                    {
                        using (new RpalCallScope(deadline: DateTime.UtcNow + s_deadline))
                        {
                            client.Echo(i);
                        }

                        unexpected[t] = new InvalidOperationException("a stopped server answered");
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
                    {
                    }
                    catch (Exception e)
                    {
                        unexpected[t] = e;
                    }

                    worst[t] = Math.Max(worst[t], Stopwatch.GetElapsedTime(start).Ticks);
                }
            })).ToArray();
            foreach (Thread thread in threads)
            {
                thread.Start();
            }

            foreach (Thread thread in threads)
            {
                Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "a blocking call never ended");
            }

            Assert.All(unexpected, e => Assert.Null(e));
            TimeSpan longest = TimeSpan.FromTicks(worst.Max());
            output.WriteLine($"{Threads * Calls} blocking calls to a stopped server, deadline {s_deadline.TotalMilliseconds} ms: the longest took {longest.TotalMilliseconds:F0} ms");
            Assert.True(longest < s_deadline + s_slack, $"a call took {longest.TotalMilliseconds:F0} ms");

            // The calls given up are still in the engine (the server may yet read them): the
            // limiter counts them until their late answers come, so no more can pile up.
            Assert.Equal(new RpalChannelOptions().MaxConcurrentCalls, channel.Limiter.InFlight);
        }

        await WaitUntilAsync(() => channel.Limiter.InFlight == 0, "the late answers to free the limiter");
        Assert.Equal(5, client.Echo(5));
    }

    [Fact]
    public async Task AwaitedCallsAndClientStreams_ToAStoppedServer_EndAtTheirDeadlines_WithoutHoldingThreads()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Backpressure, "--receivers", "1");
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Backpressure);
        IBackpressureService client = channel.CreateClient<IBackpressureService>();
        Assert.Equal(1, client.Echo(1));

        TimeSpan deadline = TimeSpan.FromSeconds(1);
        using (server.Suspend())
        {
            long start = Stopwatch.GetTimestamp();
            var calls = new List<Task>();
            using (new RpalCallScope(deadline: DateTime.UtcNow + deadline))
            {
                // 10 streams of 64 credits each: more elements than the request ring holds
                for (int i = 0; i < 10; i++)
                {
                    calls.Add(client.CountAsync(Blobs()).AsTask());
                }

                for (int i = 0; i < 3; i++)
                {
                    calls.Add(client.SlowAsync(i, new byte[16]).AsTask());
                }
            }

            Task timer = Task.Delay(deadline);
            foreach (Task call in calls)
            {
                RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
                Assert.True(e.StatusCode is StatusCode.DeadlineExceeded or StatusCode.Cancelled, e.ToString());
            }

            TimeSpan all = Stopwatch.GetElapsedTime(start);
            await timer.WaitAsync(TimeSpan.FromSeconds(30));
            TimeSpan timerLate = Stopwatch.GetElapsedTime(start) - deadline;
            output.WriteLine($"13 calls (10 client streams) to a stopped server, deadline {deadline.TotalMilliseconds} ms: all ended after {all.TotalMilliseconds:F0} ms; a timer of the same length fired {timerLate.TotalMilliseconds:F0} ms late");
            Assert.True(all < deadline + s_slack, $"the calls ended after {all.TotalMilliseconds:F0} ms");
            Assert.True(timerLate < s_slack, "the thread pool was starved");
        }

        await WaitUntilAsync(() => channel.Limiter.InFlight == 0, "the late answers to free the limiter");
        Assert.Equal(2, client.Echo(2));
    }

    [Fact]
    public async Task AnAwaitedCall_EndsOnTime_WhileEveryPoolThreadIsBlocked()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Backpressure, "--receivers", "1");
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Backpressure);
        IBackpressureService client = channel.CreateClient<IBackpressureService>();
        Assert.Equal(1, client.Echo(1));

        // A healthy pool runs the code after the await, as everywhere in .NET (SlowAsync takes a
        // millisecond: longer than the caller's spin, so the completion thread completes it).
        Awaited healthy = AwaitOnDedicatedThread(client, 2);
        Assert.Equal(2, healthy.Result);
        Assert.True(healthy.OnPool, $"continued on {healthy.Thread}");

        long rescuedBefore = CallContinuations.Rescued;
        var gate = new Latch(); // not disposable: work items still queued when the test ends wait on it too
        int blocked = 0;
        try
        {
            // More blocked work items than the pool has threads: it adds one about every half
            // second, so nothing queued after them would run for many seconds.
            int blockers = ThreadPool.ThreadCount + (Environment.ProcessorCount * 4) + 32;
            for (int i = 0; i < blockers; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(_ =>
                {
                    Interlocked.Increment(ref blocked);
                    gate.Wait(Timeout.InfiniteTimeSpan);
                }, null);
            }

            var probe = new Latch();
            ThreadPool.UnsafeQueueUserWorkItem(_ => probe.Open(), null);
            Assert.False(probe.Wait(TimeSpan.FromMilliseconds(300)), "the pool is not starved: the test proves nothing");

            // A reply, and a deadline (the server stopped): each ends its await on time.
            Awaited answered = AwaitOnDedicatedThread(client, 3);
            Awaited expired;
            using (server.Suspend())
            {
                expired = AwaitOnDedicatedThread(client, 4, s_deadline);
            }

            output.WriteLine($"pool starved ({Volatile.Read(ref blocked)} workers blocked): a reply continued after {answered.Elapsed.TotalMilliseconds:F0} ms on {answered.Thread}; " +
                $"a call with a {s_deadline.TotalMilliseconds} ms deadline to a stopped server ended after {expired.Elapsed.TotalMilliseconds:F0} ms on {expired.Thread}");
            Assert.Equal(3, answered.Result);
            Assert.Equal(StatusCode.DeadlineExceeded, expired.Status);
            Assert.True(answered.Elapsed < s_slack, $"the answered call continued after {answered.Elapsed.TotalMilliseconds:F0} ms");
            Assert.True(expired.Elapsed < s_deadline + s_slack, $"the expired call continued after {expired.Elapsed.TotalMilliseconds:F0} ms");
            Assert.False(answered.OnPool || expired.OnPool, "a continuation ran on a pool thread");
            Assert.True(CallContinuations.Rescued >= rescuedBefore + 2, "the continuations were not counted as rescued");
        }
        finally
        {
            gate.Open();
        }

        Assert.Equal(5, client.Echo(5));
    }

    /// <summary>A gate that blocks a thread without the pool noticing (no task, nothing to dispose).</summary>
    private sealed class Latch
    {
        private readonly object _lock = new();
        private bool _open;

        public void Open()
        {
            lock (_lock)
            {
                _open = true;
                Monitor.PulseAll(_lock);
            }
        }

        public bool Wait(TimeSpan timeout)
        {
            long end = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            lock (_lock)
            {
                while (!_open)
                {
                    long left = end - Environment.TickCount64;
                    if (left <= 0)
                    {
                        return false;
                    }

                    Monitor.Wait(_lock, (int)Math.Min(left, int.MaxValue));
                }

                return true;
            }
        }
    }

    /// <summary>What the code after an await saw: the result or status, the time, the thread.</summary>
    private sealed record Awaited(int Result, StatusCode Status, TimeSpan Elapsed, string? Thread, bool OnPool);

    /// <summary>
    /// Awaits SlowAsync(<paramref name="id"/>) in an async method started on a thread without a
    /// synchronization context, and reports where and when the code after the await ran.
    /// </summary>
    private static Awaited AwaitOnDedicatedThread(IBackpressureService client, int id, TimeSpan? deadline = null)
    {
        Task<Awaited>? awaited = null;
        var thread = new Thread(() => awaited = AwaitAsync());
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
        Assert.True(awaited!.Wait(TimeSpan.FromSeconds(60)), "the await never ended");
        return awaited.Result;

        async Task<Awaited> AwaitAsync()
        {
            long start = Stopwatch.GetTimestamp();
            ValueTask<int> call;
            using (new RpalCallScope(deadline: deadline is { } d ? DateTime.UtcNow + d : null))
            {
                call = client.SlowAsync(id, new byte[16]);
            }

            int result = 0;
            StatusCode status = StatusCode.OK;
            try
            {
                result = await call;
            }
            catch (RpcException e)
            {
                status = e.StatusCode;
            }

            return new Awaited(result, status, Stopwatch.GetElapsedTime(start), Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread);
        }
    }

    [Fact]
    public async Task AStoppedStreamingClient_DelaysNeitherTheServersOtherClientsCalls_NorNewConnections()
    {
        using ServerProcess server = await ServerProcess.StartAsync(ServiceNames.Backpressure, "--receivers", "1");
        using ServerProcess reader = await ServerProcess.StartAsync("stream-reader", "10");
        await using RpalChannel channel = await TestEnvironment.ConnectAsync(ServiceNames.Backpressure);
        IBackpressureService client = channel.CreateClient<IBackpressureService>();
        Assert.Equal(1, client.Echo(1));

        TimeSpan deadline = TimeSpan.FromSeconds(1);
        using (reader.Suspend())
        {
            long start = Stopwatch.GetTimestamp();
            TimeSpan longest = TimeSpan.Zero;
            // for 2 s past the reader's stop, well beyond the time it takes to fill its ring
            for (int i = 0; Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(2); i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                using (new RpalCallScope(deadline: DateTime.UtcNow + deadline))
                {
                    Assert.Equal(i, client.Echo(i));
                }

                longest = TimeSpan.FromTicks(Math.Max(longest.Ticks, Stopwatch.GetElapsedTime(t0).Ticks));
            }

            long connectStart = Stopwatch.GetTimestamp();
            await using RpalChannel fresh = await TestEnvironment.ConnectAsync(ServiceNames.Backpressure);
            Assert.Equal(3, fresh.CreateClient<IBackpressureService>().Echo(3));
            TimeSpan connect = Stopwatch.GetElapsedTime(connectStart);
            output.WriteLine($"while a streaming client was stopped: the longest call took {longest.TotalMilliseconds:F1} ms, a new connection and call {connect.TotalMilliseconds:F1} ms");
            Assert.True(connect < deadline, $"connecting took {connect.TotalMilliseconds:F0} ms");
        }

        reader.Kill();
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Blobs([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var blob = new byte[1024];
        while (!cancellationToken.IsCancellationRequested)
        {
            yield return blob;
            await Task.Yield();
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(ServerProcess.EventTimeout);
        while (!condition())
        {
            Assert.False(timeout.IsCancellationRequested, $"timed out waiting for {what}");
            await Task.Delay(10, CancellationToken.None);
        }
    }
}
