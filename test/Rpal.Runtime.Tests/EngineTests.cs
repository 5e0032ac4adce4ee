using Xunit;

namespace Rpal.Runtime.Tests;

/// <summary>Starting the engine, its options, the spin budget, and arena memory.</summary>
public sealed class EngineTests
{
    public EngineTests() => TestEngine.EnsureStarted();

    [Fact]
    public void Start_IsIdempotent_AndTheFirstOptionsStay()
    {
        Assert.True(RpalEngine.IsStarted);
        int slot = RpalEngine.SlotId;
        Assert.True(slot >= 0);

        RpalEngine.Start(new RpalEngineOptions { SpinBudget = TimeSpan.FromMilliseconds(5) });
        RpalEngine.Start();

        Assert.Equal(TestEngine.SpinBudget, RpalEngine.SpinBudget);
        Assert.Equal(slot, RpalEngine.SlotId);
    }

    [Fact]
    public void Start_FromManyThreadsAtOnce_StartsOnce()
    {
        Parallel.For(0, 8, _ => TestEngine.EnsureStarted());
        Assert.True(RpalEngine.IsStarted);
    }

    [Fact]
    public void SpinBudget_CanBeChangedAtRunTime()
    {
        try
        {
            RpalEngine.SpinBudget = TimeSpan.Zero;
            Assert.Equal(TimeSpan.Zero, RpalEngine.SpinBudget);
            RpalEngine.SpinBudget = TimeSpan.FromMicroseconds(7);
            Assert.Equal(TimeSpan.FromMicroseconds(7), RpalEngine.SpinBudget);
            Assert.Throws<ArgumentOutOfRangeException>(() => RpalEngine.SpinBudget = TimeSpan.FromTicks(-1));
        }
        finally
        {
            RpalEngine.SpinBudget = TestEngine.SpinBudget;
        }
    }

    [Fact]
    public void Alloc_ReturnsAnAlignedWritableBuffer_ThatFreeGivesBack()
    {
        RpalBuffer buffer = RpalEngine.Alloc(100);
        Assert.False(buffer.IsEmpty);
        Assert.True(buffer.Capacity >= 100);
        Assert.Equal(0, buffer.Address % 16);
        Span<byte> bytes = buffer.AsSpan();
        bytes.Fill(0x5a);
        Assert.Equal(0x5a, bytes[^1]);

        RpalEngine.Free(buffer);
        RpalException twice = Assert.Throws<RpalException>(() => RpalEngine.Free(buffer));
        Assert.Equal(RpalErrno.EINVAL, twice.Errno);
    }

    [Fact]
    public void TryAlloc_WhenTheArenaCannotHoldIt_ReturnsFalse()
    {
        Assert.False(RpalEngine.TryAlloc((nuint)(TestEngine.ArenaSize * 2), out RpalBuffer buffer));
        Assert.True(buffer.IsEmpty);

        RpalException e = Assert.Throws<RpalException>(() => RpalEngine.Alloc((nuint)(TestEngine.ArenaSize * 2)));
        Assert.Equal(RpalErrno.ENOMEM, e.Errno);
    }

    [Fact]
    public void ToMessage_PointsTheMessageAtTheBuffer()
    {
        RpalBuffer buffer = RpalEngine.Alloc(64);
        try
        {
            RpalMessage message = buffer.ToMessage(10);
            Assert.Equal(buffer.Address, message.Data);
            Assert.Equal(10UL, message.Length);
            Assert.Equal(10, message.Payload.Length);
            Assert.Throws<ArgumentOutOfRangeException>(() => buffer.ToMessage(0));
            Assert.Throws<ArgumentOutOfRangeException>(() => buffer.ToMessage((int)buffer.Capacity + 1));
        }
        finally
        {
            RpalEngine.Free(buffer);
        }
    }
}
