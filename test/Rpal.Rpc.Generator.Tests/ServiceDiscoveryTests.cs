using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Rpal.Rpc.Generator.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Generator.Tests;

/// <summary>Which declarations become services, and which members become service methods.</summary>
public sealed class ServiceDiscoveryTests
{
    [Fact]
    public void PartialInterface_CollectsTheMethodsOfEveryPart()
    {
        GeneratorOutcome outcome = Run(
            """
            using Rpal.Rpc;

            namespace Demo;

            [RpalService("demo.partial")]
            public partial interface IService
            {
                int First(int value);
            }
            """,
            """
            namespace Demo;

            public partial interface IService
            {
                int Second(int value);
            }
            """);

        Assert.Empty(outcome.CompilationDiagnostics());
        string source = Assert.Single(outcome.Result.GeneratedSources).SourceText.ToString();
        Assert.Contains("int global::Demo.IService.First(int value)", source, StringComparison.Ordinal);
        Assert.Contains("int global::Demo.IService.Second(int value)", source, StringComparison.Ordinal);
    }

    [Fact]
    public void PartialInterface_MarkedTwice_IsGeneratedOnce()
    {
        GeneratorOutcome outcome = Run(
            """
            using Rpal.Rpc;

            namespace Demo;

            [RpalService("demo.partial")]
            public partial interface IService
            {
                int First(int value);
            }
            """,
            """
            using Rpal.Rpc;

            namespace Demo;

            [RpalService("demo.partial")]
            public partial interface IService
            {
            }
            """);

        // The compiler reports the duplicate attribute (CS0579); the generator emits one file.
        Assert.Single(outcome.Result.GeneratedSources);
        Assert.Contains(outcome.Output.GetDiagnostics(), d => d.Id == "CS0579");
    }

    [Fact]
    public void ServiceInheritingAService_ServesBothInterfacesMethods()
    {
        GeneratorOutcome outcome = Run("""
            using Rpal.Rpc;

            namespace Demo;

            [RpalService("demo.base")]
            public interface IBase
            {
                int Ping();
            }

            [RpalService("demo.derived")]
            public interface IDerived : IBase
            {
                int Add(int a, int b);
            }
            """);

        Assert.Empty(outcome.CompilationDiagnostics());
        Assert.Equal(2, outcome.Result.GeneratedSources.Length);
        string derived = outcome.Source("Demo.IDerived.Rpal.g.cs");
        Assert.Contains("int global::Demo.IBase.Ping()", derived, StringComparison.Ordinal);
        Assert.Contains("((global::Demo.IBase)_implementation).Ping()", derived, StringComparison.Ordinal);
    }

    [Fact]
    public void TypeNamedLikeTheContainer_IsNotHidden()
    {
        // CalculatorRpal exists in the namespace: the generated class takes another name, so
        // that the user's type stays visible to the generated file.
        GeneratorOutcome outcome = Run("""
            using Rpal.Rpc;

            namespace Demo;

            public struct CalculatorRpal
            {
                public int Value;
            }

            [RpalService("demo.calculator")]
            public interface ICalculator
            {
                CalculatorRpal Echo(CalculatorRpal value);
            }
            """);

        Assert.Empty(outcome.CompilationDiagnostics());
        Assert.Contains("file static class CalculatorRpal2", outcome.Source("Demo.ICalculator.Rpal.g.cs"), StringComparison.Ordinal);
    }

    private static GeneratorOutcome Run(params string[] sources) =>
        GeneratorHarness.Run(GeneratorHarness.CreateCompilation(
            sources.Select((text, i) => CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, path: $"Source{i}.cs"))));
}
