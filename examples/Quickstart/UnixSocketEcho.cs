using System.Net.Sockets;

namespace Quickstart;

/// <summary>
/// The baseline: an 8-byte request and an 8-byte answer over a Unix domain socket between the
/// same two processes, the way such services are usually connected.
/// </summary>
internal static class UnixSocketEcho
{
    public static Socket Listen(string path)
    {
        File.Delete(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        return listener;
    }

    /// <summary>Echoes 8-byte messages until the client leaves (server process).</summary>
    public static void Serve(Socket listener)
    {
        using Socket s = listener.Accept();
        Span<byte> buffer = stackalloc byte[8];
        while (Fill(s, buffer))
        {
            s.Send(buffer);
        }
    }

    public static Socket Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(path));
        return s;
    }

    /// <summary>One round trip (client process).</summary>
    public static long RoundTrip(Socket s, long value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BitConverter.TryWriteBytes(buffer, value);
        s.Send(buffer);
        if (!Fill(s, buffer))
        {
            throw new IOException("The echo server went away.");
        }

        return BitConverter.ToInt64(buffer);
    }

    private static bool Fill(Socket s, Span<byte> buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = s.Receive(buffer[got..]);
            if (n == 0)
            {
                return false;
            }

            got += n;
        }

        return true;
    }
}
