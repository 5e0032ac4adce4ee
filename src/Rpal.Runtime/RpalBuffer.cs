namespace Rpal.Runtime;

/// <summary>
/// A buffer in this process's arena from <see cref="RpalEngine.Alloc"/>: its address, which is
/// the same in every connected peer, and its usable capacity. Send it by setting
/// <see cref="RpalMessage.Data"/> to <see cref="Address"/> and <see cref="RpalMessage.Length"/>
/// to the bytes written (1 to <see cref="Capacity"/>); the engine then owns it. A buffer never
/// sent is given back with <see cref="RpalEngine.Free(RpalBuffer)"/>.
/// </summary>
public readonly struct RpalBuffer : IEquatable<RpalBuffer>
{
    /// <summary>Wraps an allocation (for the engine; use <see cref="RpalEngine.Alloc"/>).</summary>
    internal RpalBuffer(nint pointer, long capacity)
    {
        Address = pointer;
        Capacity = capacity;
    }

    /// <summary>The buffer's address (16-byte aligned), valid in this process and in every peer.</summary>
    public nint Address { get; }

    /// <summary>Usable bytes, at least the size asked for.</summary>
    public long Capacity { get; }

    /// <summary>True for the default value, which holds no buffer.</summary>
    public bool IsEmpty => Address == 0;

    /// <summary>The whole buffer as writable bytes; only until it is sent or freed.</summary>
    public unsafe Span<byte> AsSpan() => Address == 0 ? default : new Span<byte>((void*)Address, checked((int)Capacity));

    /// <summary>A message whose payload is the first <paramref name="length"/> bytes of this buffer.</summary>
    public RpalMessage ToMessage(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Capacity);
        return new RpalMessage { Data = Address, Length = (ulong)length };
    }

    /// <inheritdoc/>
    public bool Equals(RpalBuffer other) => Address == other.Address && Capacity == other.Capacity;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is RpalBuffer other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Address.GetHashCode();

    /// <summary>True when both hold the same buffer.</summary>
    public static bool operator ==(RpalBuffer left, RpalBuffer right) => left.Equals(right);

    /// <summary>True when they hold different buffers.</summary>
    public static bool operator !=(RpalBuffer left, RpalBuffer right) => !left.Equals(right);
}
