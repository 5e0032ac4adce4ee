using System.Net.Sockets;
using GreeterExample;
using Grpc.Net.Client;
using Quickstart;
using Rpal.Bench.Contracts;
using Rpal.Rpc;
using Rpal.Runtime;

namespace Rpal.Bench.Server;

/// <summary>
/// The client side of every system of one bench server, connected, for the 8-byte echo the rtt
/// and paced scenarios time: the floor (one shared cache line), Rpal's generated client (blocking; awaited, with and without its
/// spin), the raw engine call, a Unix socket to the epoll echo, grpc-dotnet over a Unix socket
/// (blocking and awaited). Disposing closes what is open.
/// </summary>
internal sealed class EchoClients : IAsyncDisposable
{
    private RpalChannel? _channel;
    private RpalChannel? _noSpinChannel;
    private RpalConnection? _engine;
    private Socket? _uds;
    private GrpcChannel? _grpcChannel;

    private EchoClients()
    {
    }

    /// <summary>The systems, in the order the reports list them.</summary>
    public IReadOnlyList<EchoSystem> Systems { get; private set; } = [];

    /// <summary>The systems named by --systems (all by default), in the order <see cref="Systems"/> lists them.</summary>
    public IReadOnlyList<EchoSystem> Chosen(BenchOptions options)
    {
        if (!options.Extra.TryGetValue("systems", out string? text))
        {
            return Systems;
        }

        string[] names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string[] unknown = [.. names.Where(n => Systems.All(s => s.Name != n))];
        return unknown.Length == 0 && names.Length > 0
            ? [.. Systems.Where(s => names.Contains(s.Name))]
            : throw new FormatException($"--systems takes a comma-separated list of {string.Join(", ", Systems.Select(s => s.Name))}");
    }

    /// <summary>Connects to every system of the server at <paramref name="endpoints"/>.</summary>
    public static async Task<EchoClients> ConnectAsync(BenchEndpoints endpoints, CancellationToken cancellationToken)
    {
        var clients = new EchoClients();
        try
        {
            RpalChannel channel = clients._channel = await RpalChannel.ConnectAsync(BenchEndpoints.RpalService, cancellationToken: cancellationToken);
            RpalChannel noSpinChannel = clients._noSpinChannel = await RpalChannel.ConnectAsync(
                BenchEndpoints.RpalService, new RpalChannelOptions { SpinOnAwaitedCalls = false }, cancellationToken);
            RpalConnection engine = clients._engine = RpalConnection.Connect(BenchEndpoints.RawEngineService);
            int udsFd = (int)(clients._uds = EpollEcho.Connect(endpoints.EchoSocket)).Handle;
            GrpcChannel grpcChannel = clients._grpcChannel = UnixSocketChannel.Create(endpoints.GrpcSocket);

            IBenchService rpal = channel.CreateClient<IBenchService>();
            IBenchService rpalNoSpin = noSpinChannel.CreateClient<IBenchService>();
            IBenchService grpc = RpalGrpc.CreateClient<IBenchService>(grpcChannel);
            clients.Systems =
            [
                new("floor", Session: () => FloorLine.Open(endpoints.FloorSocket, endpoints.FloorLine)),
                new("rpal", Blocking: v => rpal.Echo(v)),
                new("rpal-await", Awaited: rpal.EchoAsync),
                new("rpal-await-nospin", Awaited: rpalNoSpin.EchoAsync),
                new("rpal-engine", Blocking: v => RawEngineEcho.Call(engine, v), Stats: () => engine.Stats),
                new("uds-epoll", Blocking: v => EpollEcho.RoundTrip(udsFd, v)),
                new("grpc-dotnet-uds", Blocking: v => grpc.Echo(v)),
                new("grpc-dotnet-uds-await", Awaited: grpc.EchoAsync),
            ];
            return clients;
        }
        catch
        {
            await clients.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _grpcChannel?.Dispose();
        _uds?.Dispose();
        _engine?.Dispose();
        if (_noSpinChannel is not null)
        {
            await _noSpinChannel.DisposeAsync();
        }

        if (_channel is not null)
        {
            await _channel.DisposeAsync();
        }
    }
}
