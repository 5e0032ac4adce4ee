using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Rpal.Rpc.Generator.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Generator.Tests;

/// <summary>
/// The generated client, dispatcher and bodies work together: every method of the sample service
/// is called through the generated client, encoded with the real RpalWriter, dispatched by the
/// generated dispatcher to a plain implementation, and its result decoded with the real
/// RpalReader (Inputs/RoundTripHarness.cs over Inputs/LoopbackContract.cs).
/// </summary>
public sealed class RoundTripTests
{
    [Fact]
    public async Task EveryMethod_RoundTripsThroughTheGeneratedCode()
    {
        GeneratorOutcome outcome = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(
            [TestInputs.Parse("SampleService.cs"), TestInputs.Parse("SampleServiceImplementation.cs"), TestInputs.Parse("RoundTripHarness.cs")],
            ContractReferences.Loopback.Reference,
            assemblyName: "Demo.RoundTrip"));
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult emitted = outcome.Output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));

        var context = new LoopbackLoadContext(ContractReferences.Loopback.Image);
        try
        {
            Assembly assembly = context.LoadFromStream(new MemoryStream(image.ToArray()));
            MethodInfo run = assembly.GetType("Demo.Sample.RoundTripHarness", throwOnError: true)!.GetMethod("RunAsync")!;
            await (Task)run.Invoke(null, null)!;
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>Loads the sample with the in-memory Rpal.Rpc; everything else comes from the test's own context.</summary>
    private sealed class LoopbackLoadContext(byte[] contractImage) : AssemblyLoadContext(isCollectible: true)
    {
        private Assembly? _contract;

        protected override Assembly? Load(AssemblyName assemblyName) =>
            assemblyName.Name == "Rpal.Rpc" ? _contract ??= LoadFromStream(new MemoryStream(contractImage)) : null;
    }
}
