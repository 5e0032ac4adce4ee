namespace Rpal.Rpc.TestContracts;

/// <summary>
/// Reports where a ReadOnlyMemory&lt;byte&gt; or ReadOnlySpan&lt;byte&gt; argument lies in the
/// server process.
/// </summary>
[RpalService(ServiceNames.ZeroCopy)]
public interface IZeroCopyService
{
    MemoryProbe Inspect(ReadOnlyMemory<byte> data);

    /// <summary>As <see cref="Inspect"/>, after suspending.</summary>
    ValueTask<MemoryProbe> InspectAfterYieldAsync(ReadOnlyMemory<byte> data);

    /// <summary>As <see cref="Inspect"/>, for a span (neither array-backed nor with a memory manager).</summary>
    MemoryProbe InspectSpan(ReadOnlySpan<byte> data);
}
