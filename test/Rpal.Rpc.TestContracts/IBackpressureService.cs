namespace Rpal.Rpc.TestContracts;

/// <summary>
/// The service of the Backpressure tests: calls held at gates the test opens ("release GATE"),
/// bodies of a given size both ways, and a slow handler to flood.
/// </summary>
[RpalService(ServiceNames.Backpressure)]
public interface IBackpressureService
{
    /// <summary><paramref name="id"/>, at once.</summary>
    int Echo(int id);

    /// <summary>
    /// Writes "holding GATE N" (N: the calls now held at the gate), waits until the gate is
    /// released (or the token fires), counts the call under <paramref name="gate"/> and answers
    /// <paramref name="id"/>.
    /// </summary>
    ValueTask<int> HoldAsync(int gate, int id, CancellationToken cancellationToken = default);

    /// <summary>How many <see cref="HoldAsync"/> calls on <paramref name="gate"/> were answered.</summary>
    int Answered(int gate);

    /// <summary>The most <see cref="HoldAsync"/> calls held at <paramref name="gate"/> at once.</summary>
    int MaxHolding(int gate);

    /// <summary>The length of <paramref name="data"/>.</summary>
    int Measure(ReadOnlyMemory<byte> data);

    /// <summary><paramref name="size"/> bytes.</summary>
    byte[] Make(int size);

    /// <summary>Waits a millisecond or so, then answers <paramref name="id"/> (a slow server).</summary>
    ValueTask<int> SlowAsync(int id, ReadOnlyMemory<byte> data);

    /// <summary><paramref name="count"/> elements of <paramref name="size"/> bytes each.</summary>
    IAsyncEnumerable<byte[]> MakeMany(int count, int size);

    /// <summary>
    /// Reads nothing of <paramref name="items"/> (so the client runs out of credit): writes
    /// "holding GATE 1" and waits until the gate is released or the token fires; answers 0.
    /// </summary>
    ValueTask<int> IgnoreStreamAsync(int gate, IAsyncEnumerable<int> items, CancellationToken cancellationToken = default);

    /// <summary>The number of elements read.</summary>
    ValueTask<int> CountAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> items);
}
