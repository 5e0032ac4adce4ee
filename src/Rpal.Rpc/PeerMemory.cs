using System.Buffers;

namespace Rpal.Rpc;

/// <summary>
/// A request payload in the caller's arena, seen in place (read-only mapping): the memory behind
/// zero-copy <see cref="ReadOnlyMemory{T}"/> and <see cref="ReadOnlySpan{T}"/> arguments. Valid until the call is answered;
/// pooled with its call.
/// </summary>
internal sealed unsafe class PeerMemory : MemoryManager<byte>
{
    private byte* _pointer;
    private int _length;

    public void Reset(nint pointer, int length)
    {
        _pointer = (byte*)pointer;
        _length = length;
    }

    public override Span<byte> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing) => Reset(0, 0);
}
