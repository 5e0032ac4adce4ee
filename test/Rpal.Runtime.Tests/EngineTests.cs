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
    public void ASpinPolicy_SpinsAfterShortWaits_ParksAfterLongOnes_AndProbesEvery32ndWait()
    {
        long budget = SpinPolicy.BudgetTicks;
        Assert.True(budget > 0);
        var policy = new SpinPolicy();
        Assert.True(policy.TryBeginSpin(1000, out long end)); // nothing learnt yet: spin
        SpinPolicy.ExitSpinner();
        Assert.Equal(1000 + budget, end);

        policy.Learn(budget); // within the budget: spin again
        Assert.True(policy.TryBeginSpin(0, out _));
        SpinPolicy.ExitSpinner();

        policy.Learn(budget + 1); // longer: park at once, except every 32nd wait
        for (int i = 1; i < 32; i++)
        {
            Assert.False(policy.TryBeginSpin(0, out end));
            Assert.Equal(0, end);
        }

        Assert.True(policy.TryBeginSpin(0, out _));
        SpinPolicy.ExitSpinner();
        Assert.False(policy.TryBeginSpin(0, out _));

        policy.Learn(0); // a spun wait that found its element at once
        Assert.True(policy.TryBeginSpin(0, out _));
        SpinPolicy.ExitSpinner();
    }

    [Fact]
    public void ASpinPolicy_NeverSpins_WithTheBudgetAtZero()
    {
        try
        {
            RpalEngine.SpinBudget = TimeSpan.Zero;
            var policy = new SpinPolicy();
            for (int i = 0; i < 64; i++)
            {
                Assert.False(policy.TryBeginSpin(0, out _));
            }
        }
        finally
        {
            RpalEngine.SpinBudget = TestEngine.SpinBudget;
        }
    }

    [Fact]
    public void AtMostHalfOfTheProcessors_SpinAtOnce()
    {
        int allowed = Math.Max(1, Environment.ProcessorCount / 2);
        for (int i = 0; i < allowed; i++)
        {
            Assert.True(SpinPolicy.TryEnterSpinner());
        }

        try
        {
            Assert.False(SpinPolicy.TryEnterSpinner());
            Assert.False(new SpinPolicy().TryBeginSpin(0, out _)); // the policy says spin, the cap says no
        }
        finally
        {
            for (int i = 0; i < allowed; i++)
            {
                SpinPolicy.ExitSpinner();
            }
        }

        Assert.True(SpinPolicy.TryEnterSpinner());
        SpinPolicy.ExitSpinner();
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
