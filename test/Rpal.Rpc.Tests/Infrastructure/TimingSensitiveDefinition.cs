using Xunit;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>
/// Tests that assert a time bound (a dead server noticed within 100 ms): they run alone, after
/// the parallel collections, so that 100,000-element streams on a 2-core machine do not starve
/// the process's completion thread while they measure.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitiveDefinition
{
    public const string Name = "timing sensitive";
}
