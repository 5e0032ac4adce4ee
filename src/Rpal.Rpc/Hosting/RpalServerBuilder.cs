using Microsoft.Extensions.DependencyInjection;

namespace Rpal.Rpc.Hosting;

internal sealed class RpalServerBuilder(IServiceCollection services) : IRpalServerBuilder
{
    public IServiceCollection Services { get; } = services;
}
