using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Rpal.Rpc.Generator.Parsing;
using Rpal.Rpc.Generator.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Generator.Tests;

/// <summary>
/// Each diagnostic of the catalogue, with its id and where it points: the span marked [| |] in
/// the source. A service with an error generates nothing (half-made code would add errors of its
/// own).
/// </summary>
public sealed class DiagnosticTests
{
    [Fact]
    public void RPAL1001_AttributeOnAClass() => AssertDiagnostic("RPAL1001", """
        [RpalService("demo.x")]
        public class [|NotAnInterface|]
        {
        }
        """);

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\".hidden\"")]
    [InlineData("\"has space\"")]
    [InlineData("\"a/b\"")]
    [InlineData("\"héllo\"")]
    [InlineData("null")]
    [InlineData("\"x12345678901234567890123456789012345678901234567890123456789012345\"")]
    public void RPAL1002_InvalidServiceName(string name) => AssertDiagnostic("RPAL1002", $$"""
        [RpalService([|{{name}}|])]
        public interface IService
        {
        }
        """);

    [Theory]
    [InlineData("a", true)]
    [InlineData("demo.calculator", true)]
    [InlineData("Demo_Calc-2.v1", true)]
    [InlineData("a.", true)]
    [InlineData(".a", false)]
    [InlineData("", false)]
    [InlineData("a b", false)]
    [InlineData("a:b", false)]
    public void ServiceNameRules_FollowTheAttributesDocumentation(string name, bool valid)
    {
        Assert.Equal(valid, ServiceNameRules.IsValid(name));
        Assert.True(ServiceNameRules.IsValid(new string('x', 64)));
        Assert.False(ServiceNameRules.IsValid(new string('x', 65)));
    }

    [Fact]
    public void RPAL1003_GenericInterface() => AssertDiagnostic("RPAL1003", """
        [RpalService("demo.x")]
        public interface IService[|<T>|]
        {
            void Run(int value);
        }
        """);

    [Theory]
    [InlineData("private")]
    [InlineData("protected")]
    [InlineData("private protected")]
    public void RPAL1004_InterfaceNestedOutOfReach(string accessibility) => AssertDiagnostic("RPAL1004", $$"""
        public class Outer
        {
            [RpalService("demo.x")]
            {{accessibility}} interface [|IService|]
            {
            }
        }
        """);

    [Fact]
    public void RPAL1004_FileLocalInterface() => AssertDiagnostic("RPAL1004", """
        [RpalService("demo.x")]
        file interface [|IService|]
        {
        }
        """);

    [Theory]
    [InlineData("int [|Count|] { get; }")]
    [InlineData("int [|this|][int index] { get; }")]
    [InlineData("event System.EventHandler? [|Changed|];")]
    public void RPAL1005_PropertyIndexerOrEvent(string member) => AssertDiagnostic("RPAL1005", $$"""
        [RpalService("demo.x")]
        public interface IService
        {
            {{member}}
        }
        """);

    [Fact]
    public void RPAL1005_InheritedProperty_PointsAtTheBaseMember() => AssertDiagnostic("RPAL1005", """
        public interface IBase
        {
            string [|Name|] { get; }
        }

        [RpalService("demo.x")]
        public interface IService : IBase
        {
            void Run();
        }
        """);

    [Fact]
    public void RPAL1006_GenericMethod() => AssertDiagnostic("RPAL1006", """
        [RpalService("demo.x")]
        public interface IService
        {
            void Run[|<T>|](int value);
        }
        """);

    [Theory]
    [InlineData("ref int value")]
    [InlineData("out int value")]
    [InlineData("in int value")]
    [InlineData("ref readonly int value")]
    [InlineData("params int[] values")]
    [InlineData("in IAsyncEnumerable<int> values")]
    public void RPAL1007_ParameterNotByValue(string parameter) => AssertDiagnostic("RPAL1007", $$"""
        [RpalService("demo.x")]
        public interface IService
        {
            void Run(int first, [|{{parameter}}|]);
        }
        """);

    [Theory]
    [InlineData("object")]
    [InlineData("List<int>")]
    [InlineData("int?")]
    [InlineData("string[]")]
    [InlineData("int[,]")]
    [InlineData("Memory<byte>")]
    [InlineData("ReadOnlyMemory<int>")]
    [InlineData("Span<byte>")]
    [InlineData("ReadOnlySpan<int>")]
    [InlineData("CancellationToken?")]
    [InlineData("Action")]
    public void RPAL1008_UnsupportedParameterType(string type) => AssertDiagnostic("RPAL1008", $$"""
        [RpalService("demo.x")]
        public interface IService
        {
            void Run(int first, [|{{type}}|] value);
        }
        """);

    [Theory]
    [InlineData("object")]
    [InlineData("Task<object>")]
    [InlineData("ValueTask<List<int>>")]
    [InlineData("ref int")]
    [InlineData("IEnumerable<int>")]
    [InlineData("ReadOnlySpan<byte>")] // a parameter only: a result would outlive the reply it points into
    public void RPAL1009_UnsupportedReturnType(string type) => AssertDiagnostic("RPAL1009", $$"""
        [RpalService("demo.x")]
        public interface IService
        {
            [|{{type}}|] Get(int value);
        }
        """);

    [Fact]
    public void RPAL1010_CancellationTokenNotLast() => AssertDiagnostic("RPAL1010", """
        [RpalService("demo.x")]
        public interface IService
        {
            Task RunAsync([|CancellationToken cancellationToken|], int value);
        }
        """);

    [Fact]
    public void RPAL1011_TwoSignaturesWithTheSameHash()
    {
        // FNV-1a collides on these two (found by search): the second is reported.
        Assert.Equal(MethodId.Compute("Op1422789()"), MethodId.Compute("Op1639192()"));
        AssertDiagnostic("RPAL1011", """
            [RpalService("demo.x")]
            public interface IService
            {
                void Op1422789();

                void [|Op1639192|]();
            }
            """);
    }

    [Fact]
    public void RPAL1011_SameSignatureInheritedTwice() => AssertDiagnostic("RPAL1011", """
        public interface IFirst
        {
            void Reset(int value);
        }

        public interface ISecond
        {
            void [|Reset|](int value);
        }

        [RpalService("demo.x")]
        public interface IService : IFirst, ISecond
        {
        }
        """);

    [Theory]
    [InlineData("static abstract int [|Create|]();")]
    [InlineData("static virtual int [|Create|]() => 0;")]
    [InlineData("static abstract int [|Count|] { get; }")]
    public void RPAL1012_StaticAbstractOrVirtualMember(string member) => AssertDiagnostic("RPAL1012", $$"""
        [RpalService("demo.x")]
        public interface IService
        {
            {{member}}
        }
        """);

    [Fact]
    public void RPAL1013_TwoServicesWithOneName()
    {
        Diagnostic diagnostic = AssertDiagnostic("RPAL1013", """
            [RpalService("demo.x")]
            public interface IFirst
            {
            }

            [RpalService([|"demo.x"|])]
            public interface ISecond
            {
            }
            """, expectGeneratedCode: true);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Descriptor.DefaultSeverity);
    }

    [Fact]
    public void RPAL1014_LanguageVersionBelow11() => AssertDiagnostic("RPAL1014", """
        [RpalService("demo.x")]
        public interface [|IService|]
        {
        }
        """, new CSharpParseOptions(LanguageVersion.CSharp10));

    [Fact]
    public void RPAL1015_SpanParameterBelowCSharp13() => AssertDiagnostic("RPAL1015", """
        [RpalService("demo.x")]
        public interface IService
        {
            int Checksum([|System.ReadOnlySpan<byte>|] data);
        }
        """, new CSharpParseOptions(LanguageVersion.CSharp12));

    [Fact]
    public void RPAL1016_TwoStreamParameters() => AssertDiagnostic("RPAL1016", """
        [RpalService("demo.x")]
        public interface IService
        {
            Task<long> SumAsync(IAsyncEnumerable<int> first, [|IAsyncEnumerable<int> second|]);
        }
        """);

    [Theory]
    [InlineData("[|int|] Sum(IAsyncEnumerable<int> values);")]
    [InlineData("[|void|] Send(int channel, IAsyncEnumerable<string> values, CancellationToken cancellationToken);")]
    [InlineData("[|IEnumerable<int>|] Echo(IAsyncEnumerable<int> values);")]
    public void RPAL1017_StreamParameterWithASynchronousResult(string method)
    {
        Diagnostic diagnostic = AssertDiagnostic("RPAL1017", $$"""
            [RpalService("demo.x")]
            public interface IService
            {
                {{method}}
            }
            """);
        Assert.Contains("takes the stream 'values'", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("IAsyncEnumerable<int> Read([|ReadOnlySpan<byte>|] key);")]
    [InlineData("Task Write([|ReadOnlySpan<byte>|] key, IAsyncEnumerable<int> values);")]
    [InlineData("IAsyncEnumerable<int> Map(IAsyncEnumerable<int> values, [|ReadOnlySpan<byte>|] table);")]
    public void RPAL1018_SpanParameterOfAStreamingMethod(string method)
    {
        Diagnostic diagnostic = AssertDiagnostic("RPAL1018", $$"""
            [RpalService("demo.x")]
            public interface IService
            {
                {{method}}
            }
            """);
        Assert.Contains("ReadOnlyMemory<byte>", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Task Send(IAsyncEnumerable<[|object|]> values);", "The parameter 'values' of 'Send' is a stream of 'object'")]
    [InlineData("IAsyncEnumerable<[|int?|]> Get();", "The result of 'Get' is a stream of 'int?'")]
    [InlineData("IAsyncEnumerable<int> Map(System.Collections.Generic.IAsyncEnumerable<[|List<int>|]> values);", "is a stream of 'System.Collections.Generic.List<int>'")]
    [InlineData("IAsyncEnumerable<[|IAsyncEnumerable<int>|]> Get();", "is a stream of 'System.Collections.Generic.IAsyncEnumerable<int>'")]
    [InlineData("IAsyncEnumerable<[|ReadOnlySpan<byte>|]> Get();", "is a stream of 'System.ReadOnlySpan<byte>'")]
    public void RPAL1019_UnsupportedStreamElementType(string method, string message)
    {
        Diagnostic diagnostic = AssertDiagnostic("RPAL1019", $$"""
            [RpalService("demo.x")]
            public interface IService
            {
                {{method}}
            }
            """);
        Assert.Contains(message, diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Task<IAsyncEnumerable<int>>")]
    [InlineData("ValueTask<IAsyncEnumerable<string>>")]
    public void RPAL1020_TaskOfAStream(string type) => AssertDiagnostic("RPAL1020", $$"""
        [RpalService("demo.x")]
        public interface IService
        {
            [|{{type}}|] GetAsync(int count);
        }
        """);

    [Theory]
    [InlineData("Task Send([|IAsyncEnumerable<int>?|] values);")]
    [InlineData("[|IAsyncEnumerable<string>?|] Get();")]
    public void RPAL1021_NullableStream(string method) => AssertDiagnostic("RPAL1021", $$"""
        [RpalService("demo.x")]
        public interface IService
        {
            {{method}}
        }
        """);

    [Fact]
    public void SeveralErrors_AreAllReported()
    {
        GeneratorOutcome outcome = Run("""
            [RpalService("demo.x")]
            public interface IService
            {
                void Run(object value, ref int count);

                object Get();
            }
            """, GeneratorHarness.ParseOptions);

        Assert.Equal(["RPAL1007", "RPAL1008", "RPAL1009"], outcome.Diagnostics.Select(d => d.Id).Order(StringComparer.Ordinal));
        Assert.Empty(outcome.Result.GeneratedSources);
    }

    [Fact]
    public void MembersWithBodies_AreNotPartOfTheServiceAndNotReported()
    {
        GeneratorOutcome outcome = Run("""
            [RpalService("demo.x")]
            public interface IService
            {
                int Add(int a, int b);

                int Twice(int a) => Add(a, a);

                object Local => new object();

                static object Shared() => new object();

                private object Helper() => new object();
            }
            """, GeneratorHarness.ParseOptions);

        Assert.Empty(outcome.CompilationDiagnostics());
        string source = Assert.Single(outcome.Result.GeneratedSources).SourceText.ToString();
        Assert.Contains("global::IService.Add(int a, int b)", source, StringComparison.Ordinal);
        Assert.DoesNotContain("Twice", source, StringComparison.Ordinal);
    }

    [Fact]
    public void CompilerErrorsInASignature_AreLeftToTheCompiler()
    {
        GeneratorOutcome outcome = Run("""
            [RpalService("demo.x")]
            public interface IService
            {
                void Run(Missing value);
            }
            """, GeneratorHarness.ParseOptions);

        Assert.Empty(outcome.Diagnostics);
        Assert.Empty(outcome.Result.GeneratedSources);
    }

    private static Diagnostic AssertDiagnostic(string id, string markup, CSharpParseOptions? options = null, bool expectGeneratedCode = false)
    {
        int start = markup.IndexOf("[|", StringComparison.Ordinal);
        int end = markup.IndexOf("|]", StringComparison.Ordinal) - 2;
        Assert.True(start >= 0 && end >= start, "The test source marks no span.");
        string source = markup.Replace("[|", string.Empty, StringComparison.Ordinal).Replace("|]", string.Empty, StringComparison.Ordinal);

        GeneratorOutcome outcome = Run(source, options ?? GeneratorHarness.ParseOptions);

        Diagnostic diagnostic = Assert.Single(outcome.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal("Test.cs", diagnostic.Location.GetLineSpan().Path);
        TextSpan span = diagnostic.Location.SourceSpan;
        string text = Prefix + source;
        Assert.Equal(source.Substring(start, end - start), span.End <= text.Length ? text.Substring(span.Start, span.Length) : $"<{span} is out of the source>");
        Assert.Equal(new TextSpan(start + Prefix.Length, end - start), span);
        Assert.Equal(expectGeneratedCode, outcome.Result.GeneratedSources.Length > 0);
        return diagnostic;
    }

    private const string Prefix = "using Rpal.Rpc;\n\n";

    private static GeneratorOutcome Run(string source, CSharpParseOptions options)
    {
        SyntaxTree tree = CSharpSyntaxTree.ParseText(Prefix + source, options, path: "Test.cs");
        return GeneratorHarness.Run(GeneratorHarness.CreateCompilation([tree]));
    }
}
