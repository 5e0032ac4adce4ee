using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Grpc.Core;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// The streaming shapes of [RpalService] interfaces across two processes: order, flow control,
/// byte elements in place, errors and cancellation either way.
/// </summary>
[Collection(SharedServerDefinition.Name)]
public sealed class StreamingTests(SharedServerFixture fixture)
{
    private const int Many = 100_000;

    // The flow-control window of a stream direction (docs/wire.md, "Streams"), plus the element a
    // producer holds while it waits for credit and the one the consumer holds while it reads.
    private const int Window = 64;
    private const int Slack = 2;

    private readonly IStreamingService _client = fixture.Client<IStreamingService>();

    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task ServerStreaming_DeliversEveryElementInOrder()
    {
        long expected = 5;
        await foreach (long v in _client.Range(5, Many))
        {
            Assert.Equal(expected++, v);
        }

        Assert.Equal(5 + Many, expected);
    }

    [Fact]
    public async Task ClientStreaming_SendsEveryElement()
    {
        (long sum, long count) = await _client.SumAsync(Count(1, Many));
        Assert.Equal(Many, count);
        Assert.Equal((long)Many * (Many + 1) / 2, sum);
    }

    [Fact]
    public async Task EmptyStreams_BothWays()
    {
        Assert.Equal((0, 0), await _client.SumAsync(Count(0, 0)));
        await foreach (long v in _client.Range(0, 0))
        {
            Assert.Fail($"unexpected element {v}");
        }
    }

    [Fact]
    public async Task Bidirectional_AnswersEachElementInOrder()
    {
        long i = 0;
        await foreach (long v in _client.Multiply(3, Count(0, Many)))
        {
            Assert.Equal(3 * i++, v);
        }

        Assert.Equal(Many, i);
    }

    [Fact]
    public async Task Strings_IncludingNullAndLongOnes_TravelBothWays()
    {
        string big = new('x', 10_000);
        string?[] input = ["abc", null, "", "héllo", big + "y"];
        List<string?> output = [];
        await foreach (string? s in _client.Reverse(input.ToAsyncEnumerable()))
        {
            output.Add(s);
        }

        Assert.Equal(["cba", null, "", "olléh", "y" + big], output);
    }

    [Fact]
    public async Task ByteElements_FromTheServer_AreReadInPlace_UntilTheNextElement()
    {
        int k = 0;
        await foreach (ReadOnlyMemory<byte> blob in _client.Blobs(50, 4096))
        {
            Assert.True(MemoryMarshal.TryGetMemoryManager(blob, out MemoryManager<byte>? _), "a payload element is a view of the server's arena");
            Assert.Equal(4096, blob.Length);
            for (int i = 0; i < blob.Length; i += 512)
            {
                Assert.Equal((byte)(k + i), blob.Span[i]);
            }

            k++;
        }

        Assert.Equal(50, k);
    }

    [Fact]
    public async Task ByteElements_FromTheClient_AreReadInPlaceByTheServer()
    {
        (int views, long bytes) = await _client.InspectBlobsAsync(Blobs(100, 1000));
        Assert.Equal(100, views);
        Assert.Equal(100_000, bytes);
    }

    [Fact]
    public async Task AFastServer_WaitsForASlowClient_NothingLost()
    {
        int tag = Tags.Next();
        long consumed = 0;
        await foreach (long v in _client.Produce(tag, 20_000))
        {
            Assert.Equal(consumed++, v);
            if (consumed % 500 == 0)
            {
                long produced = _client.Produced(tag);
                Assert.True(produced - consumed <= Window + Slack, $"the server produced {produced} while the client had read {consumed}");
            }
        }

        Assert.Equal(20_000, consumed);
    }

    [Fact]
    public async Task AFastClient_WaitsForASlowServer_NothingLost()
    {
        int tag = Tags.Next();
        long maxAhead = 0;

        async IAsyncEnumerable<long> Producer()
        {
            for (long i = 0; i < 20_000; i++)
            {
                if (i % 500 == 0)
                {
                    maxAhead = Math.Max(maxAhead, i - _client.Consumed(tag));
                }

                yield return i;
            }

            await Task.CompletedTask;
        }

        Assert.Equal(20_000, await _client.ConsumeAsync(tag, Producer()));
        Assert.True(maxAhead <= Window + Slack, $"the client got {maxAhead} elements ahead of the server");
    }

    [Fact]
    public async Task CancellingTheClientsToken_MidStream_EndsItOnBothSides()
    {
        int tag = Tags.Next();
        using var cts = new CancellationTokenSource();
        await using IAsyncEnumerator<long> e = _client.HoldAfter(3, tag, cts.Token).GetAsyncEnumerator();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(await e.MoveNextAsync());
        }

        await Server.WaitForEventAsync(ServerEvents.Held, tag);
        await cts.CancelAsync();
        RpcException ex = await Assert.ThrowsAsync<RpcException>(() => e.MoveNextAsync().AsTask().WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        await Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task LeavingTheEnumerationEarly_CancelsTheServersStream()
    {
        int tag = Tags.Next();
        await foreach (long v in _client.HoldAfter(5, tag))
        {
            if (v == 1)
            {
                break;
            }
        }

        await Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task TheEnumeratorsToken_CancelsTheCall()
    {
        int tag = Tags.Next();
        using var cts = new CancellationTokenSource();
        Task reading = Task.Run(async () =>
        {
            await foreach (long v in _client.HoldAfter(1, tag).WithCancellation(cts.Token))
            {
            }
        });
        await Server.WaitForEventAsync(ServerEvents.Held, tag);
        await cts.CancelAsync();
        RpcException ex = await Assert.ThrowsAsync<RpcException>(() => reading.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        await Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task ADeadline_EndsAStream_AndFiresTheHandlersToken()
    {
        int tag = Tags.Next();
        IStreamingService client = fixture.Channel(ServiceNames.Streaming)
            .CreateClient<IStreamingService>(new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(500)));
        List<long> received = [];
        RpcException ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (long v in client.HoldAfter(2, tag))
            {
                received.Add(v);
            }
        });
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.Equal([0, 1], received);
        await Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task AServersRpcException_MidStream_EndsItWithItsStatus_AfterTheElementsBefore()
    {
        List<long> received = [];
        RpcException ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (long v in _client.FailAfter(10, (int)StatusCode.DataLoss, "lost it"))
            {
                received.Add(v);
            }
        });
        Assert.Equal(StatusCode.DataLoss, ex.StatusCode);
        Assert.Equal("lost it", ex.Status.Detail);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), received);
    }

    [Fact]
    public async Task AServersOtherException_MidStream_IsUnknown()
    {
        RpcException ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (long v in _client.FailAfter(3, 0, "boom"))
            {
            }
        });
        Assert.Equal(StatusCode.Unknown, ex.StatusCode);
        Assert.Contains("boom", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancellingAClientStreamingCall_EndsItOnBothSides()
    {
        int tag = Tags.Next();
        using var cts = new CancellationTokenSource();
        Task<long> call = _client.ReadOneThenHoldAsync(tag, Count(0, long.MaxValue), cts.Token).AsTask();
        await Server.WaitForEventAsync(ServerEvents.Held, tag);
        await cts.CancelAsync();
        RpcException ex = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        await Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task AFailingRequestStream_FailsTheCallWithItsException_AndCancelsTheServer()
    {
        int tag = Tags.Next();
        var fail = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async IAsyncEnumerable<long> Producer()
        {
            yield return 1;
            await fail.Task;
            throw new InvalidOperationException("the producer broke");
        }

        Task<long> call = _client.ReadOneThenHoldAsync(tag, Producer()).AsTask();
        await Server.WaitForEventAsync(ServerEvents.Held, tag);
        fail.SetResult();
        InvalidOperationException ex = await Assert.ThrowsAsync<InvalidOperationException>(() => call.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal("the producer broke", ex.Message);
        await Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Fact]
    public async Task AServerThatAnswersEarly_StopsTheClientsProducer()
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async IAsyncEnumerable<long> Endless([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            using CancellationTokenRegistration r = cancellationToken.Register(() => stopped.TrySetResult());
            for (long i = 7; ; i++)
            {
                yield return i;
                await Task.Yield();
            }
        }

        Assert.Equal(7, await _client.FirstAsync(Endless()));
        await stopped.Task.WaitAsync(ServerProcess.EventTimeout);
    }

    [Fact]
    public async Task EachEnumeration_IsACall()
    {
        IAsyncEnumerable<long> range = _client.Range(0, 3);
        Assert.Equal([0L, 1, 2], await range.ToListAsync());
        Assert.Equal([0L, 1, 2], await range.ToListAsync());
    }

    private static async IAsyncEnumerable<long> Count(long start, long count)
    {
        for (long i = 0; i < count; i++)
        {
            yield return start + i;
        }

        await Task.CompletedTask;
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Blobs(int count, int size)
    {
        for (int k = 0; k < count; k++)
        {
            yield return new byte[size];
        }

        await Task.CompletedTask;
    }
}
