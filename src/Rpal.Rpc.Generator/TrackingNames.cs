namespace Rpal.Rpc.Generator;

/// <summary>The names of the pipeline's steps, which incremental tests look up.</summary>
internal static class TrackingNames
{
    public const string Services = "RpalServices";
    public const string Diagnostics = "RpalDiagnostics";
    public const string Models = "RpalModels";
    public const string ServiceNames = "RpalServiceNames";
    public const string GrpcHosting = "RpalGrpcHosting";
}
