using System.Buffers;
using System.Runtime.InteropServices;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

internal sealed class ZeroCopyService : IZeroCopyService
{
    public MemoryProbe Inspect(ReadOnlyMemory<byte> data)
    {
        bool arrayBacked = MemoryMarshal.TryGetArray(data, out ArraySegment<byte> _);
        bool managed = MemoryMarshal.TryGetMemoryManager(data, out MemoryManager<byte>? _);
        return new MemoryProbe(AddressOf(data.Span), data.Length, arrayBacked, managed, Checksums.Fnv1a64(data.Span));
    }

    public MemoryProbe InspectSpan(ReadOnlySpan<byte> data) =>
        new(AddressOf(data), data.Length, ArrayBacked: false, HasMemoryManager: false, Checksums.Fnv1a64(data));

    private static unsafe ulong AddressOf(ReadOnlySpan<byte> span)
    {
        fixed (byte* p = span)
        {
            return (ulong)p;
        }
    }

    public async ValueTask<MemoryProbe> InspectAfterYieldAsync(ReadOnlyMemory<byte> data)
    {
        await Task.Yield();
        return Inspect(data);
    }
}
