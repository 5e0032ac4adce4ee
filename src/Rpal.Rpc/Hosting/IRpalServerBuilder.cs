using Microsoft.Extensions.DependencyInjection;

namespace Rpal.Rpc.Hosting;

/// <summary>
/// What <c>services.AddRpalServer()</c> returns: the services the hosted <see cref="RpalServer"/>
/// serves are added through it (<c>AddService&lt;TService, TImplementation&gt;()</c>).
/// </summary>
public interface IRpalServerBuilder
{
    /// <summary>The service collection the server is registered in.</summary>
    IServiceCollection Services { get; }
}
