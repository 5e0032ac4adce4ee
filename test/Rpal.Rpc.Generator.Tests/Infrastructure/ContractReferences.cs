using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Rpal.Rpc.Generated;

namespace Rpal.Rpc.Generator.Tests.Infrastructure;

/// <summary>
/// The references of the compilations these tests build: the test's own runtime, Google.Protobuf,
/// Grpc.Core.Api (RpalMethod's MethodType, RpcException), and one of two Rpal.Rpc assemblies: <see cref="Rpc"/>, the real one, which generated code
/// is compiled against, and <see cref="Loopback"/>, an in-memory one for round trips; for the
/// grpc-dotnet hosting glue, <see cref="GrpcAspNetCore"/>.
/// </summary>
internal static class ContractReferences
{
    /// <summary>
    /// The files of src/Rpal.Rpc that make up the wire contract and nothing else: the loopback
    /// assembly compiles them as they are, with Inputs/LoopbackContract.cs in place of the
    /// transport (RpalClientInvoker, RpalServerCall).
    /// </summary>
    private static readonly string[] s_contractFiles =
    [
        "RpalServiceAttribute.cs",
        "StubSupport/IRpalPayload.cs",
        "StubSupport/RpalDecodeException.cs",
        "StubSupport/RpalMethod.cs",
        "StubSupport/RpalReader.cs",
        "StubSupport/RpalServiceDescriptor.cs",
        "StubSupport/RpalServiceDispatcher.cs",
        "StubSupport/RpalServiceRegistry.cs",
        "StubSupport/RpalVoid.cs",
        "StubSupport/RpalWriter.cs",
    ];

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_runtime = new(LoadRuntime);
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_grpcAspNetCore = new(LoadGrpcAspNetCore);
    private static readonly Lazy<ContractAssembly> s_loopback = new(BuildLoopback);

    /// <summary>The assemblies of the runtime the tests run on (its shared framework).</summary>
    public static ImmutableArray<MetadataReference> Runtime => s_runtime.Value;

    public static MetadataReference Protobuf { get; } = MetadataReference.CreateFromFile(typeof(Google.Protobuf.IMessage).Assembly.Location);

    public static MetadataReference Grpc { get; } = MetadataReference.CreateFromFile(typeof(global::Grpc.Core.MethodType).Assembly.Location);

    /// <summary>The real Rpal.Rpc.dll, built with this test project.</summary>
    public static MetadataReference Rpc { get; } = MetadataReference.CreateFromFile(typeof(RpalMethod).Assembly.Location);

    /// <summary>Rpal.Rpc's contract with a loopback transport: what generated code runs against in-process.</summary>
    public static ContractAssembly Loopback => s_loopback.Value;

    /// <summary>
    /// What a project referencing Grpc.AspNetCore.Server compiles against beyond <see cref="Runtime"/>:
    /// the ASP.NET Core shared framework the tests run on, and the grpc-dotnet server assemblies.
    /// Only the compilations that test the grpc-dotnet hosting glue get them: their presence is
    /// what makes the generator emit it.
    /// </summary>
    public static ImmutableArray<MetadataReference> GrpcAspNetCore => s_grpcAspNetCore.Value;

    /// <summary>Runtime, Google.Protobuf, Grpc.Core.Api and the given Rpal.Rpc (the real one by default).</summary>
    public static ImmutableArray<MetadataReference> All(MetadataReference? rpc = null) =>
        Runtime.Add(Protobuf).Add(Grpc).Add(rpc ?? Rpc);

    private static ImmutableArray<MetadataReference> LoadRuntime() => LoadFramework(typeof(object));

    private static ImmutableArray<MetadataReference> LoadGrpcAspNetCore() =>
        LoadFramework(typeof(Microsoft.AspNetCore.Http.HttpContext))
            .Add(MetadataReference.CreateFromFile(typeof(global::Grpc.AspNetCore.Server.IGrpcServerBuilder).Assembly.Location))
            .Add(MetadataReference.CreateFromFile(typeof(global::Grpc.Net.Compression.ICompressionProvider).Assembly.Location));

    /// <summary>The assemblies of the shared framework that holds <paramref name="member"/>'s assembly.</summary>
    private static ImmutableArray<MetadataReference> LoadFramework(Type member)
    {
        string frameworkDirectory = Path.GetDirectoryName(member.Assembly.Location)!;
        string trusted = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        return trusted.Split(Path.PathSeparator)
            .Where(path => string.Equals(Path.GetDirectoryName(path), frameworkDirectory, StringComparison.Ordinal))
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }

    private static ContractAssembly BuildLoopback()
    {
        var parseOptions = new CSharpParseOptions(LanguageVersion.Latest);
        string rpcDirectory = Path.Combine(RepositoryRoot.Path, "src", "Rpal.Rpc");
        List<SyntaxTree> trees = s_contractFiles
            .Select(file => Path.Combine(rpcDirectory, file))
            .Select(path => CSharpSyntaxTree.ParseText(File.ReadAllText(path), parseOptions, path: path))
            .ToList();
        trees.Add(TestInputs.Parse("LoopbackContract.cs", parseOptions));
        trees.Add(CSharpSyntaxTree.ParseText(ImplicitUsings, parseOptions, path: "ImplicitUsings.cs"));

        CSharpCompilation compilation = CSharpCompilation.Create(
            "Rpal.Rpc",
            trees,
            Runtime.Add(Protobuf).Add(Grpc),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult result = compilation.Emit(image);
        if (!result.Success)
        {
            throw new InvalidOperationException(
                "The contract files of src/Rpal.Rpc with Inputs/LoopbackContract.cs do not compile (did a contract file gain a dependency?):\n"
                + string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        }

        byte[] bytes = image.ToArray();
        return new ContractAssembly(MetadataReference.CreateFromImage(bytes), bytes);
    }

    /// <summary>What ImplicitUsings=enable gives a Microsoft.NET.Sdk project, as this repository's projects have it.</summary>
    public const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;
}
