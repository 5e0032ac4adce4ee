using System.Globalization;
using System.Text.Json;
using Rpal.Bench.Contracts;
using Rpal.Rpc;
using Rpal.Runtime;

namespace Rpal.Bench.Soak;

/// <summary>
/// <c>soak-client ID CALLS IN_FLIGHT SPIN_NS CORE</c>: one soak client process. It connects, says
/// "ready", waits for "go" on stdin, then makes CALLS calls with sequence numbers 0 to CALLS - 1,
/// IN_FLIGHT at a time: lane j of the IN_FLIGHT lanes makes the calls whose sequence number is j
/// modulo IN_FLIGHT; the first half of the lanes (rounded up) are threads that make blocking
/// calls, the others loops that await theirs, so that half the calls are of each kind however
/// fast each kind is. (Blocking calls are faster: on a loaded core the blocking lanes finish first,
/// and the rest of the run is awaited calls only.)
/// It checks every reply against the one derived from its own (client, sequence number), prints
/// "done" and its <see cref="SoakClientResult"/> as JSON, and exits when stdin closes (so that
/// the parent can read its resident memory first). CORE &lt; 0: not pinned.
/// </summary>
internal static class SoakClient
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 5
            || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int id)
            || !long.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out long calls)
            || !int.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out int inFlight) || inFlight < 1
            || !long.TryParse(args[3], NumberStyles.None, CultureInfo.InvariantCulture, out long spinNs)
            || !int.TryParse(args[4], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int core))
        {
            await Console.Error.WriteLineAsync("usage: rpal-bench soak-client ID CALLS IN_FLIGHT SPIN_NS CORE");
            return 2;
        }

        if (core >= 0 && !Affinity.PinProcess(core))
        {
            await Console.Error.WriteLineAsync($"rpal-bench soak-client {id}: not pinned (one core, or sched_setaffinity failed)");
        }

        RpalEngine.Start(new RpalEngineOptions { SpinBudget = TimeSpan.FromMicroseconds(spinNs / 1000.0) });
        RpalChannel channel = await RpalChannel.ConnectAsync(SoakCommand.ServiceName);
        ISoakService service = channel.CreateClient<ISoakService>();
        int blockingLanes = (inFlight + 1) / 2;
        Lane[] lanes = [.. Enumerable.Range(0, inFlight).Select(j => new Lane(service, id, j, inFlight, calls, blocking: j < blockingLanes))];

        Console.WriteLine("ready");
        await Console.Out.FlushAsync();
        if (await Console.In.ReadLineAsync() != "go")
        {
            return 1;
        }

        // A thread of its own, not the pool's: a pool thread blocked on stdin for the whole run
        // leaves the awaiting loops' continuations one thread fewer (on 2 cores, half the pool),
        // and the pool adds threads only slowly.
        var stdin = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }

            stdin.SetResult();
        })
        { IsBackground = true, Name = "soak-stdin" }.Start();
        Task stdinClosed = stdin.Task;

        Task all = Task.WhenAll(lanes.Select(l => l.Start()));
        if (await Task.WhenAny(all, stdinClosed) != all)
        {
            // The parent went away mid-run: calls may be stuck, so do not wait for them.
            Environment.Exit(3);
        }

        var result = new SoakClientResult
        {
            Sent = lanes.Sum(l => l.Sent),
            Completed = lanes.Sum(l => l.Completed),
            Failed = lanes.Sum(l => l.Failed),
            Misrouted = lanes.Sum(l => l.Misrouted),
            Blocking = lanes[..blockingLanes].Sum(l => l.Sent),
            Awaited = lanes[blockingLanes..].Sum(l => l.Sent),
            Inline = lanes.Sum(l => l.Inline),
            Small = lanes.Sum(l => l.Small),
            Large = lanes.Sum(l => l.Large),
            FirstError = lanes.Select(l => l.FirstError).FirstOrDefault(e => e is not null),
        };
        Console.WriteLine("done " + JsonSerializer.Serialize(result));
        await Console.Out.FlushAsync();
        await stdinClosed;
        await channel.DisposeAsync();
        return 0;
    }

    /// <summary>
    /// One call in flight at a time: makes the calls first, first + step, ... below calls, on a
    /// thread of its own with the blocking methods, or on the thread pool with the awaited ones.
    /// </summary>
    private sealed class Lane(ISoakService service, int client, long first, long step, long calls, bool blocking)
    {
        private readonly byte[] _request = new byte[SoakPayload.LargeMax];
        private long _next = first;

        public long Sent, Completed, Failed, Misrouted, Inline, Small, Large;

        public string? FirstError;

        public Task Start()
        {
            if (!blocking)
            {
                return Task.Run(RunAwaitedAsync);
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            new Thread(() =>
            {
                RunBlocking();
                done.SetResult();
            })
            { IsBackground = true, Name = "soak-blocking" }.Start();
            return done.Task;
        }

        private void RunBlocking()
        {
            while (TryTake(out long seq))
            {
                ulong key = Begin(seq);
                try
                {
                    if (SoakPayload.KindOf(key) == SoakPayload.Kind.Ping)
                    {
                        Check(service.Ping(client, seq) == SoakPayload.PingReply(key), seq, "Ping");
                    }
                    else
                    {
                        Memory<byte> request = Request(key);
                        Check(SoakPayload.IsReplyTo(service.Echo(client, seq, request).Span, request.Span), seq, "Echo");
                    }
                }
                catch (Exception e)
                {
                    Fail(seq, e);
                }
            }
        }

        private async Task RunAwaitedAsync()
        {
            while (TryTake(out long seq))
            {
                ulong key = Begin(seq);
                try
                {
                    if (SoakPayload.KindOf(key) == SoakPayload.Kind.Ping)
                    {
                        Check(await service.PingAsync(client, seq) == SoakPayload.PingReply(key), seq, "PingAsync");
                    }
                    else
                    {
                        Memory<byte> request = Request(key);
                        Check(SoakPayload.IsReplyTo((await service.EchoAsync(client, seq, request)).Span, request.Span), seq, "EchoAsync");
                    }
                }
                catch (Exception e)
                {
                    Fail(seq, e);
                }
            }
        }

        private bool TryTake(out long seq)
        {
            seq = _next;
            _next += step;
            return seq < calls;
        }

        private ulong Begin(long seq)
        {
            ulong key = SoakPayload.Key(client, seq);
            Sent++;
            switch (SoakPayload.KindOf(key))
            {
                case SoakPayload.Kind.Ping: Inline++; break;
                case SoakPayload.Kind.SmallEcho: Small++; break;
                default: Large++; break;
            }

            return key;
        }

        private Memory<byte> Request(ulong key)
        {
            Memory<byte> request = _request.AsMemory(0, SoakPayload.SizeOf(key));
            SoakPayload.Fill(request.Span, key);
            return request;
        }

        private void Check(bool right, long seq, string method)
        {
            Completed++;
            if (!right)
            {
                Misrouted++;
                FirstError ??= $"client {client} call {seq} ({method}): the reply is not this call's";
            }
        }

        private void Fail(long seq, Exception e)
        {
            Failed++;
            FirstError ??= $"client {client} call {seq}: {e.GetType().Name}: {e.Message}";
        }
    }
}
