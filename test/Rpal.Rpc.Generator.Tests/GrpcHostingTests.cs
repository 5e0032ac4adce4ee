using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Rpal.Rpc.Generated;
using Rpal.Rpc.Generator.Emitting;
using Rpal.Rpc.Generator.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Generator.Tests;

/// <summary>
/// The grpc-dotnet hosting glue (RpalGrpcAspNetCore.g.cs): generated once per compilation that
/// sees both grpc-dotnet's server and Rpal.Rpc's RpalGrpc, never otherwise; it compiles with
/// every warning an error against the real Grpc.AspNetCore.Server and ASP.NET Core, and
/// MapGrpcService&lt;TService&gt;() then serves a method of each call type.
/// </summary>
public sealed class GrpcHostingTests
{
    private const string Glue = GrpcHostingEmitter.HintName;

    [Fact]
    public void WithoutGrpcAspNetCoreServer_NoGlueIsGenerated()
    {
        // Services and the stand-in's RpalGrpc, but no grpc-dotnet server.
        GeneratorOutcome outcome = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(
            [TestInputs.Parse("SampleService.cs"), TestInputs.Parse("RpalGrpcStandIn.cs")]));

        Assert.NotEmpty(outcome.Result.GeneratedSources);
        Assert.DoesNotContain(Glue, outcome.Result.GeneratedSources.Select(s => s.HintName));
    }

    [Fact]
    public void WithoutRpalGrpc_NoGlueIsGenerated()
    {
        // grpc-dotnet's server, but nothing for the glue to call: it would not compile.
        GeneratorOutcome outcome = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(
            [CSharpSyntaxTree.ParseText("namespace Demo; public sealed class Empty { }", GeneratorHarness.ParseOptions, path: "Empty.cs")],
            ContractReferences.Runtime.Add(ContractReferences.Grpc).AddRange(ContractReferences.GrpcAspNetCore),
            "Demo"));

        Assert.Empty(outcome.Result.GeneratedSources);
    }

    [Fact]
    public void WithGrpcAspNetCoreServer_TheGlueIsGeneratedAndCompilesWithWarningsAsErrors()
    {
        GeneratorOutcome outcome = GeneratorHarness.Run(GeneratorHarness.CreateGrpcHostCompilation());

        Assert.Equal([Glue], outcome.Result.GeneratedSources.Select(s => s.HintName));
        Assert.Empty(outcome.CompilationDiagnostics().Select(d => d.ToString()));
    }

    [Fact]
    public async Task MapGrpcService_ServesEveryMethodOfTheInterfaceOnce()
    {
        GeneratorOutcome outcome = GeneratorHarness.Run(GeneratorHarness.CreateGrpcHostCompilation());
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult emitted = outcome.Output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));

        // Everything but the host itself (ASP.NET Core, grpc-dotnet) comes from the test's own context.
        Assembly host = new AssemblyLoadContext("GrpcHost").LoadFromStream(new MemoryStream(image.ToArray()));
        MethodInfo list = host.GetType("Demo.Hosting.GrpcHost", throwOnError: true)!.GetMethod("ListEndpointsAsync")!;
        IReadOnlyList<string> endpoints = await (Task<IReadOnlyList<string>>)list.Invoke(null, null)!;

        // POST only, as grpc-dotnet's own services; AddRpalService called twice adds each once.
        Assert.Equal(
            [
                "gRPC - /ICalculator/Add [POST]",
                "gRPC - /ICalculator/Count [POST]",
                "gRPC - /ICalculator/Sum [POST]",
                "gRPC - /ICalculator/Echo [POST]",
            ],
            endpoints.Where(e => e.EndsWith("[POST]", StringComparison.Ordinal)));
    }

    [SkippableFact]
    public void WithServices_TheGlueIsGeneratedOnceAndCompilesAgainstTheRealRpalRpc()
    {
        Skip.If(
            typeof(RpalMethod).Assembly.GetType("Rpal.Rpc.RpalGrpc") is null,
            "src/Rpal.Rpc has no Rpal.Rpc.RpalGrpc yet: the glue is compiled against the stand-in only.");

        const string host = """
            using Microsoft.AspNetCore.Builder;
            using Microsoft.Extensions.DependencyInjection;

            namespace Demo.Sample;

            public static class SampleHost
            {
                public static WebApplication Build()
                {
                    WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
                    builder.Services.AddGrpc().AddRpalService<ISampleService>();
                    builder.Services.AddSingleton<ISampleService, SampleServiceImplementation>();
                    WebApplication app = builder.Build();
                    app.MapGrpcService<ISampleService>();
                    return app;
                }
            }
            """;
        GeneratorOutcome outcome = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(
            [
                TestInputs.Parse("SampleService.cs"),
                TestInputs.Parse("SampleServiceImplementation.cs"),
                TestInputs.Parse("EdgeCaseServices.cs"),
                CSharpSyntaxTree.ParseText(host, GeneratorHarness.ParseOptions, path: "SampleHost.cs"),
            ],
            ContractReferences.All().AddRange(ContractReferences.GrpcAspNetCore),
            "Demo"));

        Assert.Equal(7, outcome.Result.GeneratedSources.Length);
        Assert.Single(outcome.Result.GeneratedSources, s => s.HintName == Glue);
        Assert.Empty(outcome.CompilationDiagnostics().Select(d => d.ToString()));
    }
}
