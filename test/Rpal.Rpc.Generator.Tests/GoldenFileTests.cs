using System.Text;
using Microsoft.CodeAnalysis;
using Rpal.Rpc.Generator.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Generator.Tests;

/// <summary>
/// The generated code of the inputs, compared with the files under Golden/ (one per generated
/// file, named by its hint name). Set RPAL_UPDATE_GOLDEN=1 to rewrite them from the current
/// generator, then review the diff. The generator's version, which the generated code names in
/// its [GeneratedCode] attributes, stands in the golden files as a placeholder, so a version bump
/// changes none of them.
/// </summary>
public sealed class GoldenFileTests
{
    private const string UpdateVariable = "RPAL_UPDATE_GOLDEN";
    private const string VersionPlaceholder = "GENERATOR_VERSION";

    // The attribute's arguments as the generator writes them (ServiceEmitter, GrpcHostingEmitter).
    private static readonly string s_versionArguments =
        $"(\"Rpal.Rpc.Generator\", \"{typeof(RpalServiceGenerator).Assembly.GetName().Version}\")";

    [Theory]
    [InlineData("SampleService.cs", new[] { "Demo.Sample.ISampleService.Rpal.g.cs" })]
    [InlineData("EdgeCaseServices.cs", new[]
    {
        "IGlobalService.Rpal.g.cs",
        "Edge.Cases.Outer.INested.Rpal.g.cs",
        "Edge.Cases.IOblivious.Rpal.g.cs",
        "Edge.Cases.IEmpty.Rpal.g.cs",
        "Edge.Cases.IClash.Rpal.g.cs",
    })]
    public void GeneratedCode_MatchesGoldenFiles(string input, string[] expectedFiles) =>
        AssertMatchesGoldenFiles(GeneratorHarness.Run(GeneratorHarness.CreateCompilation([TestInputs.Parse(input)])), expectedFiles);

    [Fact]
    public void GrpcHostingGlue_MatchesGoldenFile() =>
        AssertMatchesGoldenFiles(GeneratorHarness.Run(GeneratorHarness.CreateGrpcHostCompilation()), ["RpalGrpcAspNetCore.g.cs"]);

    private static void AssertMatchesGoldenFiles(GeneratorOutcome outcome, string[] expectedFiles)
    {
        Assert.Empty(outcome.Diagnostics);
        Assert.Equal(expectedFiles.Order(StringComparer.Ordinal), outcome.Result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        bool update = Environment.GetEnvironmentVariable(UpdateVariable) == "1";
        var mismatches = new List<string>();
        foreach (GeneratedSourceResult source in outcome.Result.GeneratedSources)
        {
            string path = Path.Combine(RepositoryRoot.TestProject, "Golden", source.HintName);
            string actual = source.SourceText.ToString()
                .Replace(s_versionArguments, $"(\"Rpal.Rpc.Generator\", \"{VersionPlaceholder}\")", StringComparison.Ordinal);
            if (update)
            {
                File.WriteAllText(path, actual, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
                continue;
            }

            string expected = File.Exists(path) ? File.ReadAllText(path) : "<missing>";
            if (expected != actual)
            {
                mismatches.Add($"{source.HintName} differs from Golden/{source.HintName} (set {UpdateVariable}=1 to rewrite it):\n{actual}");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n\n", mismatches));
    }
}
