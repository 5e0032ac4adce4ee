using Microsoft.CodeAnalysis;
using Rpal.Rpc.Generator.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Generator.Tests;

/// <summary>
/// The generated code compiles, with the settings of this repository's projects (nullable
/// enabled, every warning of every warning wave an error), against the real Rpal.Rpc.dll.
/// </summary>
public sealed class GeneratedCodeCompilationTests
{
    [Theory]
    [InlineData("SampleService.cs", "SampleServiceImplementation.cs")]
    [InlineData("EdgeCaseServices.cs")]
    public void GeneratedCode_CompilesWithWarningsAsErrors(params string[] inputs)
    {
        GeneratorOutcome outcome = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(inputs.Select(i => TestInputs.Parse(i))));

        Assert.NotEmpty(outcome.Result.GeneratedSources);
        Assert.Empty(outcome.CompilationDiagnostics().Select(d => d.ToString()));
    }

    [Fact]
    public void GeneratedCode_CompilesAgainstTheLoopbackContract()
    {
        // The round trip compiles against the loopback stand-in; it must be as strict as the stub.
        GeneratorOutcome outcome = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(
            [TestInputs.Parse("SampleService.cs"), TestInputs.Parse("SampleServiceImplementation.cs"), TestInputs.Parse("RoundTripHarness.cs")],
            ContractReferences.Loopback.Reference));

        Assert.Empty(outcome.CompilationDiagnostics().Select(d => d.ToString()));
    }
}
