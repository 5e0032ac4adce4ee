using Grpc.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rpal.Rpc;
using Rpal.Rpc.Generated;
using Rpal.Rpc.Hosting;
using Rpal.Runtime;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers Rpal with Microsoft.Extensions.DependencyInjection and the generic host: a server
/// run as a hosted service (<see cref="AddRpalServer(IServiceCollection, Action{RpalServerOptions}?)"/>)
/// and typed clients that reconnect (<see cref="AddRpalClient{TService}(IServiceCollection, string, Action{RpalChannelOptions}?)"/>).
/// See docs/hosting.md.
/// </summary>
public static class RpalServiceCollectionExtensions
{
    /// <summary>
    /// Registers an <see cref="RpalServer"/> (a singleton, resolvable from the container) and a
    /// hosted service that starts it with the host and stops it gracefully when the host stops.
    /// Add its services with <see cref="RpalServerBuilderExtensions.AddService{TService, TImplementation}(IRpalServerBuilder, Action{RpalServiceOptions}?)"/>.
    /// </summary>
    /// <remarks>
    /// The options come from the container's configuration first (<see cref="RpalConfigurationSections.Server"/>
    /// and <see cref="RpalConfigurationSections.Engine"/>), then from <paramref name="configure"/>
    /// and any <c>services.Configure&lt;RpalServerOptions&gt;(...)</c>. The engine options apply
    /// only if the engine of this process was not started before (<see cref="RpalEngine.Start"/>).
    /// <see cref="RpalServerOptions.LoggerFactory"/> left null is set to the container's
    /// <see cref="ILoggerFactory"/>.
    /// Calling this again adds nothing but <paramref name="configure"/>.
    /// </remarks>
    public static IRpalServerBuilder AddRpalServer(this IServiceCollection services, Action<RpalServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddEngine(services);
        if (!services.Any(d => d.ServiceType == typeof(RpalServer)))
        {
            services.AddOptions();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<RpalServerOptions>, ServerOptionsFromConfiguration>());
            services.AddSingleton(CreateServer);
            services.AddHostedService<RpalServerHostedService>();
        }

        if (configure is not null)
        {
            services.Configure(configure);
        }

        return new RpalServerBuilder(services);
    }

    /// <summary>
    /// <see cref="AddRpalServer(IServiceCollection, Action{RpalServerOptions}?)"/> with the server's
    /// options bound from <paramref name="configuration"/> (a section such as
    /// <c>configuration.GetSection("Rpal:Server")</c>), after the default section.
    /// </summary>
    public static IRpalServerBuilder AddRpalServer(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddRpalServer(options => ConfigurationBinding.BindServer(configuration, options));
    }

    /// <summary>
    /// Registers <typeparamref name="TService"/> as a singleton client of the service
    /// <paramref name="serviceName"/>: it connects on its first call, and after a call failed with
    /// Unavailable (the server went away) the next call connects again, no sooner than
    /// <see cref="RpalClientOptions.ReconnectDelay"/> after a failed connect. A call is never
    /// retried: one that failed with Unavailable may have run. The channels log to the
    /// container's <see cref="ILoggerFactory"/> unless <see cref="RpalChannelOptions.LoggerFactory"/> is set.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceName">The service's registered name: the name in the interface's [RpalService] attribute.</param>
    /// <param name="configure">Sets the options of each channel, after the configuration's (<see cref="RpalConfigurationSections.Clients"/>:SERVICE).</param>
    /// <returns>A builder to configure the reconnects (<see cref="RpalClientBuilderExtensions.ConfigureClient"/>).</returns>
    public static IRpalClientBuilder AddRpalClient<TService>(this IServiceCollection services, string serviceName, Action<RpalChannelOptions>? configure = null)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        AddEngine(services);
        services.AddOptions();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<RpalClientOptions>, ClientOptionsFromConfiguration>());
        if (configure is not null)
        {
            services.Configure<RpalClientOptions>(serviceName, options => configure(options.Channel));
        }

        services.TryAddSingleton(provider => CreateClient<TService>(provider, serviceName));
        services.TryAddSingleton(provider => provider.GetRequiredService<ReconnectingClient<TService>>().Client);
        return new RpalClientBuilder(services, serviceName);
    }

    /// <summary>
    /// <see cref="AddRpalClient{TService}(IServiceCollection, string, Action{RpalChannelOptions}?)"/>
    /// for the service named by <typeparamref name="TService"/>'s [RpalService] attribute.
    /// </summary>
    public static IRpalClientBuilder AddRpalClient<TService>(this IServiceCollection services, Action<RpalChannelOptions>? configure = null)
        where TService : class =>
        services.AddRpalClient<TService>(RpalServiceRegistry.Get<TService>().ServiceName, configure);

    private static void AddEngine(IServiceCollection services)
    {
        services.AddOptions();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<RpalEngineOptions>, EngineOptionsFromConfiguration>());
    }

    private static RpalServer CreateServer(IServiceProvider services)
    {
        RpalServerOptions options = services.GetRequiredService<IOptions<RpalServerOptions>>().Value;
        options.LoggerFactory ??= services.GetService<ILoggerFactory>(); // the host's logging, unless the code chose
        var server = new RpalServer(options);
        foreach (RpalServiceRegistration registration in services.GetServices<RpalServiceRegistration>())
        {
            registration.AddTo(server, services);
        }

        return server;
    }

    private static ReconnectingClient<TService> CreateClient<TService>(IServiceProvider services, string serviceName)
        where TService : class
    {
        RpalServiceDescriptor<TService> descriptor = RpalServiceRegistry.Get<TService>();
        if (descriptor.ServiceName != serviceName)
        {
            throw new InvalidOperationException(
                $"{typeof(TService)} is the service '{descriptor.ServiceName}', but AddRpalClient named '{serviceName}'.");
        }

        RpalClientOptions options = services.GetRequiredService<IOptionsMonitor<RpalClientOptions>>().Get(serviceName);
        options.Channel.LoggerFactory ??= services.GetService<ILoggerFactory>(); // the host's logging, unless the code chose
        RpalEngineOptions engine = services.GetRequiredService<IOptions<RpalEngineOptions>>().Value;
        var channel = new ReconnectingChannel(serviceName, options, default(CallOptions), () => RpalEngine.Start(engine));
        return new ReconnectingClient<TService>(descriptor.CreateClient(new RpalClientInvoker(channel)), channel);
    }
}
