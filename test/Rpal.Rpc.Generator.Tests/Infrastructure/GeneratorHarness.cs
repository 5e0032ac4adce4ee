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
        CreateCompilation(trees, ContractReferences.All(rpc), assemblyName);

    /// <summary>A compilation of <paramref name="trees"/> and the implicit usings against exactly <paramref name="references"/>.</summary>
    public static CSharpCompilation CreateCompilation(IEnumerable<SyntaxTree> trees, IEnumerable<MetadataReference> references, string assemblyName) =>
        CSharpCompilation.Create(
            assemblyName,
            trees.Append(CSharpSyntaxTree.ParseText(ContractReferences.ImplicitUsings, (CSharpParseOptions)trees.First().Options, path: "ImplicitUsings.cs")),
            references,
            CompilationOptions);

    /// <summary>
    /// An ASP.NET Core host that serves an interface with grpc-dotnet (Inputs/GrpcHost.cs) over the
    /// stand-in of Rpal.Rpc's gRPC surface (Inputs/RpalGrpcStandIn.cs), with <paramref name="more"/>:
    /// what the grpc-dotnet hosting glue is generated for and compiled against. Without
    /// <paramref name="withGrpcAspNetCore"/> it lacks grpc-dotnet's server (and does not compile).
    /// </summary>
    public static CSharpCompilation CreateGrpcHostCompilation(bool withGrpcAspNetCore = true, params SyntaxTree[] more)
    {
        ImmutableArray<MetadataReference> references = ContractReferences.Runtime.Add(ContractReferences.Grpc);
        return CreateCompilation(
            [TestInputs.Parse("RpalGrpcStandIn.cs"), TestInputs.Parse("GrpcHost.cs"), .. more],
            withGrpcAspNetCore ? references.AddRange(ContractReferences.GrpcAspNetCore) : references,
            "Demo.Hosting");
    }

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
