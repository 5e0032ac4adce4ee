// An ASP.NET Core host that serves an interface with grpc-dotnet through the generated glue
// (RpalGrpcAspNetCore.g.cs), as the generator's README shows. ListEndpointsAsync builds it, maps
// the service and lists the endpoints grpc-dotnet made, without starting a server.
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Demo.Hosting;

public interface ICalculator
{
    int Add(int a, int b);
}

public sealed class Calculator : ICalculator
{
    public int Add(int a, int b) => a + b;
}

public static class GrpcHost
{
    /// <summary>"DisplayName [HTTP methods]" of each endpoint.</summary>
    public static async Task<IReadOnlyList<string>> ListEndpointsAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        // Twice: the second registration must add nothing.
        builder.Services.AddGrpc().AddRpalService<ICalculator>().AddRpalService<ICalculator>();
        builder.Services.AddSingleton<ICalculator, Calculator>();
        await using WebApplication app = builder.Build();
        app.MapGrpcService<ICalculator>();
        return ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(source => source.Endpoints)
            .Select(endpoint => $"{endpoint.DisplayName} [{string.Join(",", endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])}]")
            .ToList();
    }
}
