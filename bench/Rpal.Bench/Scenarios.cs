namespace Rpal.Bench;

/// <summary>The scenarios, in the order "all" runs them.</summary>
internal static class Scenarios
{
    public static IScenario[] All =>
    [
        new SeedScenario(),
        new IdleScenario(),
        new RttScenario(),
        new PacedScenario(),
        new SizeScenario(),
        new ThroughputScenario(),
        new StreamScenario(),
    ];
}
