using System.IO.MemoryMappedFiles;
using System.Net.Sockets;
using System.Runtime.Intrinsics.X86;

namespace Rpal.Bench.Server;

/// <summary>
/// The physical floor under every round trip between the bench's two processes: one cache line
/// of a shared file, the client writing a sequence number into it and spinning until the server,
/// spinning on the other core, writes the same number back into the same line. No transport can
/// cross these two cores faster; a row's ratio to this one says how far from that limit it is.
/// The server side (<see cref="Start"/>) spins only during a client's session: between sessions
/// its thread blocks in <c>accept</c> or <c>read</c> on a Unix socket, so that it takes nothing
/// from the systems measured beside it.
/// </summary>
internal sealed unsafe class FloorLine : IDisposable
{
    // The line: the client's sequence number, the server's echo of it, and the client's "stop".
    private const int SeqOffset = 0;
    private const int AckOffset = 8;
    private const int StopOffset = 16;
    private const int FileBytes = 4096;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _line;
    private readonly Socket? _session;
    private long _seq;

    private FloorLine(string linePath, Socket? session)
    {
        _file = MemoryMappedFile.CreateFromFile(linePath, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        _view = _file.CreateViewAccessor(0, FileBytes);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _line = p + _view.PointerOffset; // page-aligned: the three words share one line
        _session = session;
    }

    private ref long Seq => ref *(long*)(_line + SeqOffset);

    private ref long Ack => ref *(long*)(_line + AckOffset);

    private ref long Stop => ref *(long*)(_line + StopOffset);

    /// <summary>
    /// Creates the line at <paramref name="linePath"/> and serves sessions on the Unix socket
    /// <paramref name="socketPath"/> from a background thread pinned to <paramref name="core"/>,
    /// until the process exits.
    /// </summary>
    public static void Start(string socketPath, string linePath, int core)
    {
        using (FileStream f = File.Create(linePath))
        {
            f.SetLength(FileBytes);
        }

        File.Delete(socketPath);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(4);
        var line = new FloorLine(linePath, null);
        var thread = new Thread(() =>
        {
            Affinity.PinCurrentThread(core);
            line.Serve(listener);
        })
        { IsBackground = true, Name = "bench-floor" };
        thread.Start();
    }

    /// <summary>
    /// Starts a session with the server at <paramref name="socketPath"/>: when this returns, the
    /// server spins on the line until <see cref="Dispose"/>.
    /// </summary>
    public static FloorLine Open(string socketPath, string linePath)
    {
        var session = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            session.Connect(new UnixDomainSocketEndPoint(socketPath));
            var line = new FloorLine(linePath, session);
            Volatile.Write(ref line.Stop, 0);
            line._seq = Volatile.Read(ref line.Seq);
            session.Send([1]);
            line.RoundTrip(0); // returns once the server spins
            return line;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>One round trip through the line (client side); returns <paramref name="value"/>.</summary>
    public long RoundTrip(long value)
    {
        long seq = ++_seq;
        Volatile.Write(ref Seq, seq);
        while (Volatile.Read(ref Ack) != seq)
        {
            Pause();
        }

        return value;
    }

    /// <summary>Ends the session (the server stops spinning and says so), or unmaps the server's line.</summary>
    public void Dispose()
    {
        if (_session is not null)
        {
            Volatile.Write(ref Stop, 1);
            byte[] done = new byte[1];
            _ = _session.Receive(done); // 0 bytes: the server went away, which also ends its spin
            _session.Dispose();
        }

        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    private static void Pause()
    {
        if (X86Base.IsSupported)
        {
            X86Base.Pause();
        }
    }

    private void Serve(Socket listener)
    {
        byte[] buffer = new byte[1];
        while (true)
        {
            using Socket session = listener.Accept();
            while (session.Receive(buffer) == 1)
            {
                long seen = Volatile.Read(ref Seq);
                Volatile.Write(ref Ack, seen);
                while (Volatile.Read(ref Stop) == 0)
                {
                    long seq = Volatile.Read(ref Seq);
                    if (seq != seen)
                    {
                        Volatile.Write(ref Ack, seen = seq);
                    }
                    else
                    {
                        Pause();
                    }
                }

                session.Send(buffer);
            }
        }
    }
}
