using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Rpal.Rpc.Generator.Tests.Infrastructure;

/// <summary>One run of the generator: the driver (to run again), its result, and the compilation with the generated files.</summary>
internal sealed record GeneratorOutcome(GeneratorDriver Driver, GeneratorRunResult Result, CSharpCompilation Output)
{
    public ImmutableArray<Diagnostic> Diagnostics => Result.Diagnostics;

    public string Source(string hintName) =>
        Result.GeneratedSources.Single(s => s.HintName == hintName).SourceText.ToString();

    /// <summary>Errors and warnings of the compilation with the generated code, the generator's included.</summary>
    public ImmutableArray<Diagnostic> CompilationDiagnostics() =>
        Output.GetDiagnostics().AddRange(Diagnostics).Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();
}
