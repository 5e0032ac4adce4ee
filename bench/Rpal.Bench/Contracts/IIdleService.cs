using Rpal.Rpc;

namespace Rpal.Bench;

/// <summary>The idle scenario's trivial service: a server that has nothing to do.</summary>
[RpalService("rpal.bench.idle")]
public interface IIdleService
{
    /// <summary>Answers <paramref name="value"/> + 1.</summary>
    int Ping(int value);
}
