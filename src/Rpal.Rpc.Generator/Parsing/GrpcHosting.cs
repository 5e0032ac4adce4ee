using Microsoft.CodeAnalysis;

namespace Rpal.Rpc.Generator.Parsing;

/// <summary>Whether a compilation can be served by grpc-dotnet: the condition of the hosting glue.</summary>
internal static class GrpcHosting
{
    /// <summary>What <c>MapGrpcService&lt;TService&gt;()</c> asks for the methods of a service (package Grpc.AspNetCore.Server).</summary>
    public const string ServiceMethodProviderMetadataName = "Grpc.AspNetCore.Server.Model.IServiceMethodProvider`1";

    /// <summary>Where the glue gets the gRPC methods of a service (Rpal.Rpc).</summary>
    public const string RpalGrpcMetadataName = "Rpal.Rpc.RpalGrpc";

    /// <summary>
    /// True when <paramref name="compilation"/> sees both grpc-dotnet's server and Rpal.Rpc's
    /// <c>RpalGrpc</c>: the glue needs both to compile. The number of [RpalService] interfaces in
    /// the compilation does not matter: a host may serve interfaces declared in another assembly.
    /// </summary>
    /// <remarks>
    /// Called on every compilation; the result is a bool, so an edit that does not change it
    /// leaves the glue's output cached.
    /// </remarks>
    public static bool IsAvailable(Compilation compilation) =>
        compilation.GetTypeByMetadataName(ServiceMethodProviderMetadataName) is not null
        && compilation.GetTypeByMetadataName(RpalGrpcMetadataName) is not null;
}
