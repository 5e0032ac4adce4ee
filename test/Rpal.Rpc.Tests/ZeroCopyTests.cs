using Rpal.Rpc.TestContracts;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// A ReadOnlyMemory&lt;byte&gt; or ReadOnlySpan&lt;byte&gt; argument is read by the server in
/// place: in the caller's arena, which the server maps read-only at the same address, without a copy.
/// </summary>
[Collection(SharedServerDefinition.Name)]
public sealed class ZeroCopyTests(SharedServerFixture fixture)
{
    private readonly IZeroCopyService _client = fixture.Client<IZeroCopyService>();

    [SkippableTheory]
    [InlineData(13)] // with its 4-byte length, just over the 16 bytes that travel inline
    [InlineData(4096)]
    [InlineData(4 << 20)]
    public void TheServerReadsAReadOnlyMemoryArgumentInTheCallersArena(int length)
    {
        byte[] data = RandomBytes(length);
        AssertSeenInPlace(data, _client.Inspect(data));
    }

    [SkippableFact]
    public async Task AHandlerThatSuspends_StillReadsTheArgumentInPlace()
    {
        byte[] data = RandomBytes(100_000);
        AssertSeenInPlace(data, await _client.InspectAfterYieldAsync(data));
    }

    [SkippableTheory]
    [InlineData(13)] // with its 4-byte length, just over the 16 bytes that travel inline
    [InlineData(4096)]
    [InlineData(4 << 20)]
    public void TheServerReadsAReadOnlySpanArgumentInTheCallersArena(int length)
    {
        byte[] data = RandomBytes(length);
        MemoryProbe probe = _client.InspectSpan(data);
        Assert.Equal(data.Length, probe.Length);
        Assert.Equal(Checksums.Fnv1a64(data), probe.Checksum);
        AssertInCallersArena(probe);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(12)] // with its 4-byte length, the 16 bytes that travel inline
    public void ASmallReadOnlySpanArgument_TravelsInline(int length)
    {
        byte[] data = RandomBytes(length);
        MemoryProbe probe = _client.InspectSpan(data.AsSpan());
        Assert.Equal(data.Length, probe.Length);
        Assert.Equal(Checksums.Fnv1a64(data), probe.Checksum);
    }

    private void AssertSeenInPlace(byte[] data, MemoryProbe probe)
    {
        Assert.Equal(data.Length, probe.Length);
        Assert.Equal(Checksums.Fnv1a64(data), probe.Checksum);
        Assert.False(probe.ArrayBacked, "the server got a managed array: a copy");
        Assert.True(probe.HasMemoryManager, "the server's memory is not the peer's");
        AssertInCallersArena(probe);
    }

    private void AssertInCallersArena(MemoryProbe probe)
    {
        Skip.IfNot(ProcMaps.Available, "no /proc/PID/maps");
        // The address the server read lies in this process's arena (mapped read-write here) ...
        ProcMaps.Mapping? mine = ProcMaps.Find(Environment.ProcessId, probe.Address);
        Assert.NotNull(mine);
        Assert.Contains("rpal-arena", mine.Path, StringComparison.Ordinal);
        Assert.StartsWith("rw", mine.Permissions, StringComparison.Ordinal);
        Assert.True(probe.Address + (ulong)probe.Length <= mine.End);

        // ... and in the server, at the same address, the same memory is mapped read-only.
        ProcMaps.Mapping? theirs = ProcMaps.Find(fixture.Server.Id, probe.Address);
        Assert.NotNull(theirs);
        Assert.Contains("rpal-arena", theirs.Path, StringComparison.Ordinal);
        Assert.Equal("r--s", theirs.Permissions);
    }

    private static byte[] RandomBytes(int length)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        return data;
    }
}
