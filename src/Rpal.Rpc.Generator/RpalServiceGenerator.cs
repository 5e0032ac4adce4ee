using System.Collections.Generic;
using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using Rpal.Rpc.Generator.Diagnostics;
using Rpal.Rpc.Generator.Emitting;
using Rpal.Rpc.Generator.Model;
using Rpal.Rpc.Generator.Parsing;

namespace Rpal.Rpc.Generator;

/// <summary>
/// The Rpal source generator: for each interface marked <c>[RpalService("name")]</c> it emits a
/// client stub, a server dispatcher and a descriptor registered at module load; and, when the
/// compilation references grpc-dotnet's server, the glue that serves such interfaces with it.
/// </summary>
/// <remarks>
/// Three stages: <c>ForAttributeWithMetadataName</c> finds the interfaces; <see cref="ServiceParser"/>
/// builds an equatable <see cref="ServiceModel"/> (or diagnostics); <see cref="ServiceEmitter"/>
/// writes it out. An edit that leaves a model equal leaves its output cached.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed class RpalServiceGenerator : IIncrementalGenerator
{
    /// <summary>The attribute that marks a service interface.</summary>
    public const string AttributeMetadataName = "Rpal.Rpc.RpalServiceAttribute";

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ServiceResult> results = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                AttributeMetadataName,
                static (node, _) => node is BaseTypeDeclarationSyntax,
                ServiceParser.Parse)
            .WithTrackingName(TrackingNames.Services);

        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics = results
            .Select(static (result, _) => result.Diagnostics)
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (output, items) =>
        {
            foreach (DiagnosticInfo item in items)
            {
                output.ReportDiagnostic(item.ToDiagnostic());
            }
        });

        IncrementalValuesProvider<ServiceModel> models = results
            .Where(static result => result.Model is not null)
            .Select(static (result, _) => result.Model!)
            .WithTrackingName(TrackingNames.Models);
        context.RegisterSourceOutput(models, static (output, model) =>
            output.AddSource(model.HintName, SourceText.From(ServiceEmitter.Emit(model), Encoding.UTF8)));

        IncrementalValueProvider<EquatableArray<ServiceNameInfo>> names = results
            .Where(static result => result.ServiceName is not null)
            .Select(static (result, _) => result.ServiceName!)
            .Collect()
            .Select(static (items, _) => items.ToEquatableArray())
            .WithTrackingName(TrackingNames.ServiceNames);
        context.RegisterSourceOutput(names, static (output, items) => ReportDuplicateNames(output, items));

        // The grpc-dotnet hosting glue: one file per compilation, whatever its services. The
        // compilation changes on every edit; the bool taken from it does not, so the output stays cached.
        IncrementalValueProvider<bool> grpcHosting = context.CompilationProvider
            .Select(static (compilation, _) => GrpcHosting.IsAvailable(compilation))
            .WithTrackingName(TrackingNames.GrpcHosting);
        context.RegisterSourceOutput(grpcHosting, static (output, available) =>
        {
            if (available)
            {
                output.AddSource(GrpcHostingEmitter.HintName, SourceText.From(GrpcHostingEmitter.Emit(), Encoding.UTF8));
            }
        });
    }

    /// <summary>A later service with a name already given is reported, pointing at the earlier one.</summary>
    private static void ReportDuplicateNames(SourceProductionContext output, EquatableArray<ServiceNameInfo> names)
    {
        var first = new Dictionary<string, ServiceNameInfo>();
        foreach (ServiceNameInfo name in names)
        {
            if (first.TryGetValue(name.Name, out ServiceNameInfo? earlier))
            {
                output.ReportDiagnostic(DiagnosticInfo.Create(
                    DiagnosticDescriptors.DuplicateServiceName, name.Location, name.Name, earlier.InterfaceName).ToDiagnostic());
            }
            else
            {
                first.Add(name.Name, name);
            }
        }
    }
}
