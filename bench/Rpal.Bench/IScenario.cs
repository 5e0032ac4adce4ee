namespace Rpal.Bench;

/// <summary>One benchmark scenario: a command of the bench program.</summary>
internal interface IScenario
{
    /// <summary>The command name (<c>seed</c>, <c>rtt</c>, ...).</summary>
    string Name { get; }

    /// <summary>One line for the usage text.</summary>
    string Description { get; }

    /// <summary>Runs the scenario and returns its results (the caller writes them out).</summary>
    Task<ScenarioReport> RunAsync(BenchOptions options, CancellationToken cancellationToken);
}
