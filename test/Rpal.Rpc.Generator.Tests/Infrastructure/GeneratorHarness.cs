using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Rpal.Rpc.Generator.Tests.Infrastructure;

/// <summary>Builds compilations and runs <see cref="RpalServiceGenerator"/> over them.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    /// <summary>
    /// What a project of this repository compiles with: nullable enabled, every warning (of every
    /// warning wave) an error. CS1591 (missing XML comment) is left out because the test inputs
    /// are not documented; generated types are file-local, so it could not apply to them anyway.
    /// </summary>
    public static readonly CSharpCompilationOptions CompilationOptions = new CSharpCompilationOptions(
            OutputKind.DynamicallyLinkedLibrary,
            nullableContextOptions: NullableContextOptions.Enable,
            generalDiagnosticOption: ReportDiagnostic.Error,
            warningLevel: 9999)
        .WithSpecificDiagnosticOptions([new("CS1591", ReportDiagnostic.Suppress)]);

    public static CSharpCompilation CreateCompilation(IEnumerable<SyntaxTree> trees, MetadataReference? rpc = null, string assemblyName = "Demo") =>
        CSharpCompilation.Create(
            assemblyName,
            trees.Append(CSharpSyntaxTree.ParseText(ContractReferences.ImplicitUsings, (CSharpParseOptions)trees.First().Options, path: "ImplicitUsings.cs")),
            ContractReferences.All(rpc),
            CompilationOptions);

    public static CSharpCompilation CreateCompilation(params string[] sources) =>
        CreateCompilation(sources.Select((text, i) => CSharpSyntaxTree.ParseText(text, ParseOptions, path: $"Source{i}.cs")));

    public static GeneratorDriver CreateDriver(CSharpParseOptions? parseOptions = null) =>
        CSharpGeneratorDriver.Create(
            [new RpalServiceGenerator().AsSourceGenerator()],
            parseOptions: parseOptions ?? ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator once over <paramref name="compilation"/>.</summary>
    public static GeneratorOutcome Run(CSharpCompilation compilation, GeneratorDriver? driver = null)
    {
        driver ??= CreateDriver((CSharpParseOptions)compilation.SyntaxTrees.First().Options);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> _);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        if (result.Exception is not null)
        {
            throw new InvalidOperationException("The generator threw.", result.Exception);
        }

        return new GeneratorOutcome(driver, result, (CSharpCompilation)output);
    }
}
