namespace Rpal.Rpc.Generator.Model;

/// <summary>
/// What the parser makes of one [RpalService] declaration: the model to emit (null when an error
/// was found, so that no half-made code adds errors of its own) and the diagnostics to report.
/// </summary>
/// <param name="Model">The model to emit; null when an error was found.</param>
/// <param name="Diagnostics">The diagnostics to report, errors and warnings.</param>
/// <param name="ServiceName">The registered name and where it was given, for the cross-service check; null if invalid.</param>
internal sealed record ServiceResult(ServiceModel? Model, EquatableArray<DiagnosticInfo> Diagnostics, ServiceNameInfo? ServiceName)
{
    public static readonly ServiceResult Nothing = new(null, EquatableArray<DiagnosticInfo>.Empty, null);
}
