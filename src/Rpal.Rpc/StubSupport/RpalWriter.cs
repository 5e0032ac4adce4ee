using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;

namespace Rpal.Rpc.Generated;

/// <summary>
/// Writes a message body, front to back, into memory that the peer reads in place (the
/// sender's arena, or the inline words of a small message). The format is little-endian and
/// unaligned: an unmanaged value is its bytes; a string, a byte sequence, an array or a protobuf
/// message is a 32-bit length (-1 for null) followed by its bytes (UTF-8 for strings). Sizes
/// are computed up front with the <c>SizeOf</c> helpers so the buffer is allocated once.
/// </summary>
public ref struct RpalWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    /// <summary>Creates a writer over <paramref name="buffer"/>.</summary>
    public RpalWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Position => _position;

    /// <summary>Size of an unmanaged value in the body.</summary>
    public static int SizeOf<T>()
        where T : unmanaged => Unsafe.SizeOf<T>();

    /// <summary>Size of a string in the body.</summary>
    public static int SizeOf(string? value) => 4 + (value is null ? 0 : Encoding.UTF8.GetByteCount(value));

    /// <summary>Size of a byte array in the body.</summary>
    public static int SizeOf(byte[]? value) => 4 + (value?.Length ?? 0);

    /// <summary>Size of a byte sequence in the body.</summary>
    public static int SizeOf(ReadOnlyMemory<byte> value) => 4 + value.Length;

    /// <summary>Size of a byte span in the body (the same as a <see cref="ReadOnlyMemory{T}"/>).</summary>
    public static int SizeOf(ReadOnlySpan<byte> value) => 4 + value.Length;

    /// <summary>Size of an array of unmanaged values in the body.</summary>
    public static int SizeOfArray<T>(T[]? value)
        where T : unmanaged => 4 + ((value?.Length ?? 0) * Unsafe.SizeOf<T>());

    /// <summary>Size of a protobuf message in the body.</summary>
    public static int SizeOf(IMessage? value) => 4 + (value?.CalculateSize() ?? 0);

    /// <summary>Writes an unmanaged value as its bytes.</summary>
    public void Write<T>(T value)
        where T : unmanaged
    {
        MemoryMarshal.Write(Take(Unsafe.SizeOf<T>()), in value);
    }

    /// <summary>Writes a string: length, then UTF-8 bytes.</summary>
    public void Write(string? value)
    {
        if (value is null)
        {
            WriteLength(-1);
            return;
        }

        int length = Encoding.UTF8.GetByteCount(value);
        WriteLength(length);
        Encoding.UTF8.GetBytes(value, Take(length));
    }

    /// <summary>Writes a byte array: length, then its bytes.</summary>
    public void Write(byte[]? value)
    {
        if (value is null)
        {
            WriteLength(-1);
            return;
        }

        Write((ReadOnlyMemory<byte>)value);
    }

    /// <summary>Writes a byte sequence: length, then its bytes.</summary>
    public void Write(ReadOnlyMemory<byte> value) => Write(value.Span);

    /// <summary>
    /// Writes a byte span: length, then its bytes (the same encoding as a
    /// <see cref="ReadOnlyMemory{T}"/>).
    /// </summary>
    public void Write(ReadOnlySpan<byte> value)
    {
        WriteLength(value.Length);
        value.CopyTo(Take(value.Length));
    }

    /// <summary>Writes an array of unmanaged values: count, then their bytes.</summary>
    public void WriteArray<T>(T[]? value)
        where T : unmanaged
    {
        if (value is null)
        {
            WriteLength(-1);
            return;
        }

        WriteLength(value.Length);
        MemoryMarshal.AsBytes(value.AsSpan()).CopyTo(Take(value.Length * Unsafe.SizeOf<T>()));
    }

    /// <summary>Writes a protobuf message: length, then its encoding, straight into the body.</summary>
    public void Write(IMessage? value)
    {
        if (value is null)
        {
            WriteLength(-1);
            return;
        }

        int length = value.CalculateSize();
        WriteLength(length);
        value.WriteTo(Take(length));
    }

    private void WriteLength(int length) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), length);

    private Span<byte> Take(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _position))
        {
            ThrowOverflow();
        }

        Span<byte> span = _buffer.Slice(_position, count);
        _position += count;
        return span;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowOverflow() =>
        throw new InvalidOperationException("A body grew past the size it announced (GetSize and Write disagree).");
}
