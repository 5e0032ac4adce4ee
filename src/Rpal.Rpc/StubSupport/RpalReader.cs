using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;

namespace Rpal.Rpc.Generated;

/// <summary>
/// Reads a message body written by <see cref="RpalWriter"/> in another process, in place. The
/// body is untrusted: every length is checked against what is left, strings must be valid
/// UTF-8, and a violation throws <see cref="RpalDecodeException"/> (the call fails, nothing
/// else). Each byte is read once.
/// </summary>
public ref struct RpalReader
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _data;
    private readonly MemoryManager<byte>? _memory;
    private int _position;

    /// <summary>Creates a reader over <paramref name="data"/>.</summary>
    public RpalReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _memory = null;
        _position = 0;
    }

    /// <summary>
    /// Creates a reader over the memory of <paramref name="memory"/>: byte sequences are then
    /// returned without a copy (<see cref="ReadMemory"/>), valid while the call lasts.
    /// </summary>
    public RpalReader(MemoryManager<byte> memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _data = memory.GetSpan();
        _memory = memory;
        _position = 0;
    }

    /// <summary>Bytes not read yet.</summary>
    public readonly int Remaining => _data.Length - _position;

    /// <summary>Reads an unmanaged value.</summary>
    public T Read<T>()
        where T : unmanaged => MemoryMarshal.Read<T>(Take(Unsafe.SizeOf<T>()));

    /// <summary>Reads a string (null when the writer wrote null).</summary>
    public string? ReadString()
    {
        int length = ReadLength();
        if (length < 0)
        {
            return null;
        }

        try
        {
            return s_strictUtf8.GetString(Take(length));
        }
        catch (DecoderFallbackException e)
        {
            throw new RpalDecodeException("A string from the peer is not valid UTF-8.", e);
        }
    }

    /// <summary>Reads a byte array (a copy; null when the writer wrote null).</summary>
    public byte[]? ReadByteArray()
    {
        int length = ReadLength();
        return length < 0 ? null : Take(length).ToArray();
    }

    /// <summary>
    /// Reads a byte sequence. With a reader over a <see cref="MemoryManager{T}"/> (the server's
    /// view of a request) the result points into the caller's memory, without a copy, and is
    /// valid until the call is answered; otherwise it is a copy.
    /// </summary>
    public ReadOnlyMemory<byte> ReadMemory()
    {
        int length = ReadLength();
        if (length <= 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        int start = _position;
        ReadOnlySpan<byte> bytes = Take(length);
        return _memory is null ? bytes.ToArray() : _memory.Memory.Slice(start, length);
    }

    /// <summary>
    /// Reads a byte sequence written as a <see cref="ReadOnlySpan{T}"/> or a
    /// <see cref="ReadOnlyMemory{T}"/>, without a copy: the result is a slice of the data this
    /// reader reads (on the server, the caller's payload or the call's inline words), valid as
    /// long as that data is. A length of 0 or -1 reads as empty.
    /// </summary>
    public ReadOnlySpan<byte> ReadSpan()
    {
        int length = ReadLength();
        return length <= 0 ? ReadOnlySpan<byte>.Empty : Take(length);
    }

    /// <summary>Reads an array of unmanaged values (null when the writer wrote null).</summary>
    public T[]? ReadArray<T>()
        where T : unmanaged
    {
        int count = ReadLength();
        if (count < 0)
        {
            return null;
        }

        int size = Unsafe.SizeOf<T>();
        if (count > Remaining / size)
        {
            ThrowMalformed("an array longer than its body");
        }

        return MemoryMarshal.Cast<byte, T>(Take(count * size)).ToArray();
    }

    /// <summary>Reads a protobuf message with its parser (null when the writer wrote null).</summary>
    public T? ReadMessage<T>(MessageParser<T> parser)
        where T : IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(parser);
        int length = ReadLength();
        if (length < 0)
        {
            return default;
        }

        ReadOnlySpan<byte> bytes = Take(length);
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RpalDecodeException($"A {typeof(T).Name} from the peer does not parse: {e.Message}", e);
        }
    }

    private int ReadLength()
    {
        int length = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        if (length < -1)
        {
            ThrowMalformed("a negative length");
        }

        return length;
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)(_data.Length - _position))
        {
            ThrowMalformed("a length past the end of its body");
        }

        ReadOnlySpan<byte> span = _data.Slice(_position, count);
        _position += count;
        return span;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowMalformed(string what) =>
        throw new RpalDecodeException($"A message body from the peer is malformed: {what}.");
}
