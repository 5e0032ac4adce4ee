using Microsoft.Extensions.DependencyInjection;

namespace Rpal.Rpc.Hosting;

internal sealed class RpalClientBuilder(IServiceCollection services, string serviceName) : IRpalClientBuilder
{
    public IServiceCollection Services { get; } = services;

    public string ServiceName { get; } = serviceName;
}
