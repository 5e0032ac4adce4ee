using System.Net.Sockets;
using Grpc.Net.Client;

namespace GreeterExample;

/// <summary>
/// A grpc-dotnet <see cref="GrpcChannel"/> whose HTTP/2 connections go to a Unix socket. (The
/// benchmark suite and the cross-host tests compile this file too: bench/Rpal.Bench,
/// test/Rpal.Rpc.Tests/CrossHostTests.cs.)
/// </summary>
internal static class UnixSocketChannel
{
    /// <summary>
    /// A channel to the Kestrel server listening on <paramref name="socketPath"/>. The address
    /// "http://localhost" only fills the :authority header; every connection is made by the
    /// callback, over the socket (cleartext HTTP/2, which Kestrel accepts on an Http2-only endpoint).
    /// </summary>
    public static GrpcChannel Create(string socketPath)
    {
        var endPoint = new UnixDomainSocketEndPoint(socketPath);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }
}
