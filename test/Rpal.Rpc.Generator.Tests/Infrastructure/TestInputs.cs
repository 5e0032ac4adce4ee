using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Rpal.Rpc.Generator.Tests.Infrastructure;

/// <summary>The source files under Inputs/, read from the checkout.</summary>
internal static class TestInputs
{
    public static string Read(string fileName) =>
        File.ReadAllText(Path.Combine(RepositoryRoot.TestProject, "Inputs", fileName));

    public static SyntaxTree Parse(string fileName, CSharpParseOptions? options = null) =>
        CSharpSyntaxTree.ParseText(Read(fileName), options ?? GeneratorHarness.ParseOptions, path: fileName);
}
