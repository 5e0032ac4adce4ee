using GreeterExample;
using Grpc.Core;
using Grpc.Net.Client;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// One [RpalService] contract, one implementation (in one server process), one client code path
/// (<see cref="RpalGrpc.CreateClient{TService}(ChannelBase, CallOptions)"/>), two transports: an
/// <see cref="RpalChannel"/>, and grpc-dotnet over HTTP/2 (a GrpcChannel to Kestrel on a Unix
/// socket). Each test runs on both and expects the same results, statuses and stream behaviour.
/// </summary>
public sealed class CrossHostTests(CrossHostTests.Servers servers) : IClassFixture<CrossHostTests.Servers>
{
    public static readonly TheoryData<string> Transports = ["rpal", "http2"];

    private static readonly string[] s_words = ["a", "bc", ""];

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task UnaryCalls_GiveTheSameResults(string transport)
    {
        ICrossHostService client = servers.Client(transport);
        Assert.Equal(5, client.Add(2, 3));
        Assert.Equal("Hello, Rpal", await client.GreetAsync("Rpal"));
        byte[] blob = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        Assert.Equal(blob, await client.EchoAsync(blob));
        Assert.Equal((6L, 2.0), client.Stats([1, 2, 3]));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public void Statuses_AreTheSame(string transport)
    {
        ICrossHostService client = servers.Client(transport);
        RpcException e = Assert.Throws<RpcException>(() => client.Fail((int)StatusCode.NotFound, "nope"));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal("nope", e.Status.Detail);

        e = Assert.Throws<RpcException>(() => client.Fail(0, "boom"));
        Assert.Equal(StatusCode.Unknown, e.StatusCode);
        Assert.Contains("boom", e.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task ServerStreaming_DeliversTheSameElementsInOrder(string transport)
    {
        long expected = 10;
        await foreach (long v in servers.Client(transport).Range(10, 10_000))
        {
            Assert.Equal(expected++, v);
        }

        Assert.Equal(10_010, expected);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task ClientStreaming_GivesTheSameResult(string transport)
    {
        Assert.Equal(10_000L * 10_001 / 2, await servers.Client(transport).SumAsync(Count(1, 10_000)));
        Assert.Equal(0, await servers.Client(transport).SumAsync(Count(0, 0)));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Bidirectional_WithAnOpeningParameter_GivesTheSameElements(string transport)
    {
        List<string> shouted = [];
        await foreach (string s in servers.Client(transport).Shout("> ", s_words.ToAsyncEnumerable()))
        {
            shouted.Add(s);
        }

        Assert.Equal(["> A", "> BC", "> "], shouted);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task AnErrorMidStream_EndsItTheSameWay(string transport)
    {
        List<long> received = [];
        RpcException e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (long v in servers.Client(transport).FailAfter(5, (int)StatusCode.DataLoss))
            {
                received.Add(v);
            }
        });
        Assert.Equal(StatusCode.DataLoss, e.StatusCode);
        Assert.Equal("failed after 5", e.Status.Detail);
        Assert.Equal([0L, 1, 2, 3, 4], received);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Cancellation_EndsTheCallOnBothSides(string transport)
    {
        int tag = Tags.Next();
        using var cts = new CancellationTokenSource();
        Task<int> call = servers.Client(transport).HoldAsync(tag, cts.Token).AsTask();
        await servers.Server.WaitForEventAsync(ServerEvents.Held, tag);
        await cts.CancelAsync();
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        await servers.Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task ADeadline_EndsTheCallOnBothSides(string transport)
    {
        int tag = Tags.Next();
        ICrossHostService client = servers.Client(transport, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(1)));
        Task<int> call = client.HoldAsync(tag).AsTask();
        await servers.Server.WaitForEventAsync(ServerEvents.Held, tag);
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(ServerProcess.EventTimeout));
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        await servers.Server.WaitForEventAsync(ServerEvents.TokenFired, tag);
    }

    private static async IAsyncEnumerable<long> Count(long start, long count)
    {
        for (long i = 0; i < count; i++)
        {
            yield return start + i;
        }

        await Task.CompletedTask;
    }

    /// <summary>One server process serving the contract over Rpal and over HTTP/2, and a channel to each.</summary>
    public sealed class Servers : IAsyncLifetime
    {
        private readonly string _socket = Path.Combine(Path.GetTempPath(), $"rpal-crosshost-{Environment.ProcessId}.sock");
        private RpalChannel? _rpal;
        private GrpcChannel? _http2;

        internal ServerProcess Server { get; private set; } = null!;

        /// <summary>The same client code for both transports.</summary>
        public ICrossHostService Client(string transport, CallOptions options = default) =>
            RpalGrpc.CreateClient<ICrossHostService>(transport == "rpal" ? _rpal! : _http2!, options);

        public async Task InitializeAsync()
        {
            Server = await ServerProcess.StartAsync(ServiceNames.CrossHost, "--http2", _socket);
            _rpal = await TestEnvironment.ConnectAsync(ServiceNames.CrossHost);
            _http2 = UnixSocketChannel.Create(_socket);

            // the first call over HTTP/2 connects and makes the server JIT its pipeline: not in a
            // test's deadline
            foreach (string transport in Transports)
            {
                await Client(transport).GreetAsync("warm-up");
                Client(transport).Add(1, 1);
            }
        }

        public async Task DisposeAsync()
        {
            _http2?.Dispose();
            if (_rpal is not null)
            {
                await _rpal.DisposeAsync();
            }

            Server?.Dispose();
            File.Delete(_socket);
        }
    }
}
