namespace Rpal.Rpc.TestContracts;

/// <summary>Identifies one call of the concurrency tests: which thread, which call, and a check value.</summary>
public readonly record struct CallTag(int Thread, int Sequence, long Check)
{
    /// <summary>What the server answers to this tag.</summary>
    public CallTag Answer() => new(Thread, Sequence, ~Check);
}
