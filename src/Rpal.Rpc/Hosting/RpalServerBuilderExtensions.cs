using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rpal.Rpc;
using Rpal.Rpc.Generated;
using Rpal.Rpc.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds [RpalService] implementations to the server of <c>AddRpalServer</c>.</summary>
public static class RpalServerBuilderExtensions
{
    /// <summary>
    /// Serves <typeparamref name="TService"/> with a <typeparamref name="TImplementation"/> from
    /// the container. The server holds the one instance it resolves, from the root provider, for
    /// its lifetime; so <typeparamref name="TImplementation"/> is registered as a singleton unless
    /// the container already has it (a scoped or transient registration would still be resolved
    /// once, and a scoped one fails validation: register those as singletons).
    /// </summary>
    /// <param name="builder">The server builder.</param>
    /// <param name="configure">
    /// The service's own options (who may connect, how many at once), after the configuration's
    /// (<see cref="RpalConfigurationSections.Services"/>:SERVICE); without either the service takes the server's.
    /// </param>
    public static IRpalServerBuilder AddService<TService, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TImplementation>(
        this IRpalServerBuilder builder, Action<RpalServiceOptions>? configure = null)
        where TService : class
        where TImplementation : class, TService
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TImplementation>();
        return builder.AddService<TService>(provider => provider.GetRequiredService<TImplementation>(), configure);
    }

    /// <summary>
    /// Serves <typeparamref name="TService"/> with the instance <paramref name="factory"/> returns,
    /// called once, when the container builds the server.
    /// </summary>
    /// <param name="builder">The server builder.</param>
    /// <param name="factory">Makes the implementation.</param>
    /// <param name="configure">The service's own options; see <see cref="AddService{TService, TImplementation}(IRpalServerBuilder, Action{RpalServiceOptions}?)"/>.</param>
    public static IRpalServerBuilder AddService<TService>(this IRpalServerBuilder builder, Func<IServiceProvider, TService> factory, Action<RpalServiceOptions>? configure = null)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.AddSingleton(new RpalServiceRegistration((server, provider) =>
        {
            string name = RpalServiceRegistry.Get<TService>().ServiceName;
            RpalServiceOptions? options = null;
            if (ConfigurationBinding.Section(provider, $"{RpalConfigurationSections.Services}:{name}") is { } section && section.Exists())
            {
                options = new RpalServiceOptions();
                ConfigurationBinding.BindService(section, options);
            }

            if (configure is not null)
            {
                options ??= new RpalServiceOptions();
                configure(options);
            }

            server.AddService(factory(provider), options);
        }));
        return builder;
    }
}
