namespace Rpal.Bench.Server;

/// <summary>Where the bench server's systems listen: names on this host, socket and file paths in a directory.</summary>
internal sealed record BenchEndpoints(string Directory)
{
    /// <summary>The Rpal service (<see cref="Contracts.IBenchService"/>).</summary>
    public const string RpalService = "rpal.bench";

    /// <summary>The raw engine echo service (<see cref="RawEngineEcho"/>).</summary>
    public const string RawEngineService = "rpal.bench.raw";

    /// <summary>The epoll echo server's Unix socket.</summary>
    public string EchoSocket => Path.Combine(Directory, "echo.sock");

    /// <summary>The floor's shared line (<see cref="FloorLine"/>).</summary>
    public string FloorLine => Path.Combine(Directory, "floor.line");

    /// <summary>The Unix socket that starts and ends a floor session.</summary>
    public string FloorSocket => Path.Combine(Directory, "floor.sock");

    /// <summary>Kestrel's Unix socket (HTTP/2, grpc-dotnet).</summary>
    public string GrpcSocket => Path.Combine(Directory, "grpc.sock");
}
