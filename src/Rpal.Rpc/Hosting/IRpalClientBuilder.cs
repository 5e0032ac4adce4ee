using Microsoft.Extensions.DependencyInjection;

namespace Rpal.Rpc.Hosting;

/// <summary>What <c>services.AddRpalClient&lt;TService&gt;(serviceName)</c> returns, to configure the client further.</summary>
public interface IRpalClientBuilder
{
    /// <summary>The service collection the client is registered in.</summary>
    IServiceCollection Services { get; }

    /// <summary>The service the client connects to; also the name of its <see cref="RpalClientOptions"/>.</summary>
    string ServiceName { get; }
}
