using System.Globalization;
using Microsoft.CodeAnalysis;
using Rpal.Rpc.Generated;
using Rpal.Rpc.Generator.Model;
using Rpal.Rpc.Generator.Parsing;
using Rpal.Rpc.Generator.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Generator.Tests;

/// <summary>
/// Method ids: the generator computes them at build time, Rpal.Rpc's RpalMethod.ComputeId at run
/// time (tools, interop); both must give the same number for the same signature, and the
/// signature format is part of the wire contract, so it is pinned here.
/// </summary>
public sealed class MethodIdTests
{
    [Theory]
    [InlineData("")]
    [InlineData("Ping()")]
    [InlineData("Add(System.Int32,System.Int32)")]
    [InlineData("Grüße(System.String)")]
    [InlineData("名前(System.ReadOnlyMemory<System.Byte>,System.Int64[])")]
    [InlineData("Op1422789()")]
    [InlineData("SumAsync(System.Collections.Generic.IAsyncEnumerable<System.Int32>)")]
    public void Generator_AndRuntime_ComputeTheSameId(string signature) =>
        Assert.Equal(RpalMethod.ComputeId(signature), MethodId.Compute(signature));

    [Fact]
    public void EveryGeneratedId_IsTheRuntimesIdOfItsSignature()
    {
        GeneratorOutcome outcome = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(
            [TestInputs.Parse("SampleService.cs"), TestInputs.Parse("EdgeCaseServices.cs")]));

        ServiceModel[] models = Models(outcome).ToArray();
        Assert.Equal(6, models.Length);
        foreach (ServiceModel model in models)
        {
            string source = outcome.Source(model.HintName);
            foreach (MethodModel method in model.Methods)
            {
                Assert.Equal(RpalMethod.ComputeId(method.Signature), method.Id);
                Assert.Contains($"internal const uint {method.Key}Id = 0x{method.Id.ToString("X8", CultureInfo.InvariantCulture)}u;", source, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Signatures_FollowTheDocumentedFormat()
    {
        GeneratorOutcome outcome = GeneratorHarness.Run(GeneratorHarness.CreateCompilation([TestInputs.Parse("SampleService.cs")]));

        string[] signatures = Models(outcome).Single().Methods.Select(m => m.Signature).ToArray();

        Assert.Equal(
            [
                "Add(System.Int32,System.Int32)",
                "Add(System.Int64,System.Int64)",
                "Log(System.String)",
                "Shutdown()",
                "Describe(Demo.Sample.Color,Demo.Sample.Point3,System.Int32,System.ValueTuple<System.Int32,System.Int32>)",
                "EchoBytesAsync(System.Byte[])",
                "EchoMemoryAsync(System.ReadOnlyMemory<System.Byte>)",
                "ScaleAsync(System.Int64[],System.Int64)",
                "AddAsync(Google.Protobuf.WellKnownTypes.Timestamp,Google.Protobuf.WellKnownTypes.Duration)",
                "ResetAsync()",
                "NotifyAsync(System.String,System.Byte[],System.Guid)",
                "Greet(System.String,System.String,System.DateTime)",
                "Checksum(System.ReadOnlySpan<System.Byte>,System.Int32)",
                "CountAsync(System.ReadOnlySpan<System.Byte>,System.Byte)",
                "StoreAsync(System.String,System.ReadOnlySpan<System.Byte>)",
                "Range(System.Int32,System.Int32)",
                "Ticks()",
                "ReadChunks(System.String,System.Int32)",
                "SumAsync(System.Collections.Generic.IAsyncEnumerable<System.Int32>)",
                "UploadAsync(System.String,System.Collections.Generic.IAsyncEnumerable<System.ReadOnlyMemory<System.Byte>>,System.Guid)",
                "AppendAsync(System.String,System.Collections.Generic.IAsyncEnumerable<System.String>)",
                "WaitAllAsync(System.Collections.Generic.IAsyncEnumerable<Google.Protobuf.WellKnownTypes.Duration>)",
                "Chat(System.Collections.Generic.IAsyncEnumerable<System.String>)",
                "Shift(Google.Protobuf.WellKnownTypes.Duration,System.Collections.Generic.IAsyncEnumerable<Google.Protobuf.WellKnownTypes.Timestamp>)",
                "Ping()",
            ],
            signatures);
    }

    [Fact]
    public void NestedTypes_AreJoinedWithDots()
    {
        GeneratorOutcome outcome = GeneratorHarness.Run(GeneratorHarness.CreateCompilation("""
            using Rpal.Rpc;

            namespace A.B;

            public static class Outer
            {
                public struct Inner
                {
                    public int Value;
                }
            }

            [RpalService("demo.nested")]
            public interface IService
            {
                void Run(Outer.Inner value, (int First, long Second)[] pairs);
            }
            """));

        Assert.Equal("Run(A.B.Outer.Inner,System.ValueTuple<System.Int32,System.Int64>[])", Models(outcome).Single().Methods.Single().Signature);
    }

    [Fact]
    public void StreamParameters_AreWrittenLikeAnyOtherType_AndResultStreamsAreLeftOut()
    {
        GeneratorOutcome outcome = GeneratorHarness.Run(GeneratorHarness.CreateCompilation("""
            using Rpal.Rpc;

            namespace A.B;

            [RpalService("demo.streams")]
            public interface IService
            {
                Task<long> Sum(int seed, IAsyncEnumerable<int> values, CancellationToken cancellationToken);

                IAsyncEnumerable<string> Watch(string? prefix);

                IAsyncEnumerable<string?> Echo(IAsyncEnumerable<string?> lines);
            }
            """));

        Assert.Equal(
            [
                "Sum(System.Int32,System.Collections.Generic.IAsyncEnumerable<System.Int32>)",
                "Watch(System.String)",
                "Echo(System.Collections.Generic.IAsyncEnumerable<System.String>)",
            ],
            Models(outcome).Single().Methods.Select(m => m.Signature));
    }

    private static IEnumerable<ServiceModel> Models(GeneratorOutcome outcome) =>
        outcome.Result.TrackedSteps[TrackingNames.Models]
            .SelectMany(step => step.Outputs)
            .Select(output => (ServiceModel)output.Value);
}
