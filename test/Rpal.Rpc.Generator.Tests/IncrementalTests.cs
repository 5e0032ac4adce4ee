using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Rpal.Rpc.Generator.Model;
using Rpal.Rpc.Generator.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Generator.Tests;

/// <summary>
/// The pipeline caches: an edit that does not change a service leaves its steps Cached or
/// Unchanged and its output Cached; an edit that does change it regenerates it.
/// </summary>
public sealed class IncrementalTests
{
    private const string Unrelated = """
        namespace Demo.Other;

        public sealed class Unrelated
        {
            public int Value => 1;
        }
        """;

    [Fact]
    public void UnrelatedEdit_LeavesEveryStepCached()
    {
        (GeneratorOutcome first, CSharpCompilation compilation) = RunSample();

        SyntaxTree unrelated = compilation.SyntaxTrees.Single(t => t.FilePath == "Unrelated.cs");
        SyntaxTree edited = unrelated.WithChangedText(SourceText.From(Unrelated.Replace("=> 1;", "=> 2;\n    public string Name => \"other\";")));
        GeneratorOutcome second = GeneratorHarness.Run(compilation.ReplaceSyntaxTree(unrelated, edited), first.Driver);

        AssertAllCachedOrUnchanged(second.Result, TrackingNames.Services);
        AssertAllCachedOrUnchanged(second.Result, TrackingNames.Models);
        AssertAllCachedOrUnchanged(second.Result, TrackingNames.Diagnostics);
        AssertAllCachedOrUnchanged(second.Result, TrackingNames.ServiceNames);
        AssertAllCachedOrUnchanged(second.Result, TrackingNames.GrpcHosting);
        AssertOutputsCached(second.Result);
    }

    [Fact]
    public void UnrelatedEdit_LeavesTheGrpcHostingGlueCached()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateGrpcHostCompilation(
            more: CSharpSyntaxTree.ParseText(Unrelated, GeneratorHarness.ParseOptions, path: "Unrelated.cs"));
        GeneratorOutcome first = GeneratorHarness.Run(compilation);
        Assert.Equal(["RpalGrpcAspNetCore.g.cs"], first.Result.GeneratedSources.Select(s => s.HintName));

        // Every edit gives a new compilation, so the step runs again; its bool is the same.
        SyntaxTree unrelated = compilation.SyntaxTrees.Single(t => t.FilePath == "Unrelated.cs");
        SyntaxTree edited = unrelated.WithChangedText(SourceText.From(Unrelated.Replace("=> 1;", "=> 2;")));
        GeneratorOutcome second = GeneratorHarness.Run(compilation.ReplaceSyntaxTree(unrelated, edited), first.Driver);

        AssertAllCachedOrUnchanged(second.Result, TrackingNames.GrpcHosting);
        AssertOutputsCached(second.Result);
        Assert.Equal(["RpalGrpcAspNetCore.g.cs"], second.Result.GeneratedSources.Select(s => s.HintName));
    }

    [Fact]
    public void AddingGrpcAspNetCoreServer_GeneratesTheGlue()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateGrpcHostCompilation(withGrpcAspNetCore: false);
        GeneratorOutcome first = GeneratorHarness.Run(compilation);
        Assert.Empty(first.Result.GeneratedSources);

        GeneratorOutcome second = GeneratorHarness.Run(compilation.AddReferences(ContractReferences.GrpcAspNetCore), first.Driver);

        Assert.Contains(second.Result.TrackedSteps[TrackingNames.GrpcHosting].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Equal(["RpalGrpcAspNetCore.g.cs"], second.Result.GeneratedSources.Select(s => s.HintName));
    }

    [Fact]
    public void EditInTheServiceFileThatKeepsTheService_LeavesTheOutputCached()
    {
        (GeneratorOutcome first, CSharpCompilation compilation) = RunSample();

        // A comment above the interface shifts every position in the file: the service is
        // parsed again, but its model is equal, so nothing is emitted again.
        SyntaxTree service = compilation.SyntaxTrees.Single(t => t.FilePath == "SampleService.cs");
        string text = service.GetText().ToString().Replace("[RpalService(", "// A new comment.\n[RpalService(");
        GeneratorOutcome second = GeneratorHarness.Run(compilation.ReplaceSyntaxTree(service, service.WithChangedText(SourceText.From(text))), first.Driver);

        Assert.Contains(second.Result.TrackedSteps[TrackingNames.Services].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        AssertAllCachedOrUnchanged(second.Result, TrackingNames.Models);

        // The name's new position reruns the duplicate-name check, which finds nothing again
        // (Unchanged); every source output stays Cached.
        Assert.All(
            second.Result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(r => r.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
        Assert.Equal(6, second.Result.TrackedSteps[TrackingNames.Models].SelectMany(s => s.Outputs).Count(o => o.Reason == IncrementalStepRunReason.Cached || o.Reason == IncrementalStepRunReason.Unchanged));
    }

    [Fact]
    public void EditOfTheService_RegeneratesIt()
    {
        (GeneratorOutcome first, CSharpCompilation compilation) = RunSample();

        SyntaxTree service = compilation.SyntaxTrees.Single(t => t.FilePath == "SampleService.cs");
        string text = service.GetText().ToString().Replace("void Shutdown();", "void Shutdown();\n\n    int Count();");
        GeneratorOutcome second = GeneratorHarness.Run(compilation.ReplaceSyntaxTree(service, service.WithChangedText(SourceText.From(text))), first.Driver);

        Assert.Contains(second.Result.TrackedSteps[TrackingNames.Models].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("int global::Demo.Sample.ISampleService.Count()", second.Source("Demo.Sample.ISampleService.Rpal.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void Model_HoldsNoSymbolSyntaxOrCompilation()
    {
        // A symbol, a node, a location or a compilation in the model would keep a whole
        // compilation alive and compare by reference: caching would silently stop working.
        Type[] forbidden = [typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Location), typeof(Compilation), typeof(SemanticModel)];
        var seen = new HashSet<Type>();
        var pending = new Stack<Type>([typeof(ServiceResult)]);
        while (pending.TryPop(out Type? type))
        {
            if (!seen.Add(type) || type.IsPrimitive || type == typeof(string) || type.IsEnum)
            {
                continue;
            }

            Assert.DoesNotContain(forbidden, f => f.IsAssignableFrom(type));
            if (type.Namespace?.StartsWith("Rpal.Rpc.Generator", StringComparison.Ordinal) != true)
            {
                continue;
            }

            foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                pending.Push(property.PropertyType);
                foreach (Type argument in property.PropertyType.GetGenericArguments())
                {
                    pending.Push(argument);
                }
            }
        }

        Assert.Contains(typeof(MethodModel), seen);
        Assert.Contains(typeof(LocationInfo), seen);
    }

    private static (GeneratorOutcome Outcome, CSharpCompilation Compilation) RunSample()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(
        [
            TestInputs.Parse("SampleService.cs"),
            TestInputs.Parse("EdgeCaseServices.cs"),
            CSharpSyntaxTree.ParseText(Unrelated, GeneratorHarness.ParseOptions, path: "Unrelated.cs"),
        ]);
        GeneratorOutcome outcome = GeneratorHarness.Run(compilation);
        Assert.Equal(6, outcome.Result.GeneratedSources.Length);
        return (outcome, compilation);
    }

    private static void AssertAllCachedOrUnchanged(GeneratorRunResult result, string step)
    {
        ImmutableArray<IncrementalGeneratorRunStep> runs = result.TrackedSteps[step];
        Assert.NotEmpty(runs);
        foreach ((object _, IncrementalStepRunReason reason) in runs.SelectMany(r => r.Outputs))
        {
            Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {reason}");
        }
    }

    private static void AssertOutputsCached(GeneratorRunResult result)
    {
        IEnumerable<(object Value, IncrementalStepRunReason Reason)> outputs = result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(r => r.Outputs);
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }
}
