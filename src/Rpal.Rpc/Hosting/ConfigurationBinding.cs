using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rpal.Runtime;

namespace Rpal.Rpc.Hosting;

/// <summary>
/// Binds the Rpal options from the container's <see cref="IConfiguration"/>, when it has one
/// (a generic host always does), at the sections of <see cref="RpalConfigurationSections"/>. The
/// Bind calls go through the configuration binder's source generator (no reflection: Rpal.Rpc is
/// AOT-compatible); get-only collections (AllowedPeers:UserIds:0...) are filled in place.
/// <see cref="RpalServerOptions.Interceptors"/> are objects, not configuration: code adds them.
/// </summary>
internal static class ConfigurationBinding
{
    // Interceptors and LoggerFactory are objects the binder cannot make: it leaves them alone,
    // which is what we want, and says so (SYSLIB1100/1101, silenced in Rpal.Rpc.csproj: the
    // generator's diagnostics ignore #pragma).
    public static void BindServer(IConfiguration section, RpalServerOptions options)
    {
        RefuseEngineKeys(section);
        section.Bind(options);
    }

    public static void BindService(IConfiguration section, RpalServiceOptions options) => section.Bind(options);

    public static void BindEngine(IConfiguration section, RpalEngineOptions options) => section.Bind(options);

    /// <summary>The client's own keys and its channel's, side by side in one section.</summary>
    public static void BindClient(IConfiguration section, RpalClientOptions options)
    {
        RefuseEngineKeys(section);
        section.Bind(options.Channel);
        options.ReconnectDelay = section.GetValue(nameof(RpalClientOptions.ReconnectDelay), options.ReconnectDelay);
        options.MaxReconnectDelay = section.GetValue(nameof(RpalClientOptions.MaxReconnectDelay), options.MaxReconnectDelay);
    }

    /// <summary>
    /// The spin budget is one value for the whole process, so only the engine's section sets it;
    /// a server or client section that still does would be silently ignored by the binder: it
    /// fails instead, naming the key to use.
    /// </summary>
    private static void RefuseEngineKeys(IConfiguration section)
    {
        if (section[nameof(RpalEngineOptions.SpinBudget)] is not null)
        {
            string path = (section as IConfigurationSection)?.Path ?? "the section";
            throw new InvalidOperationException(
                $"{path}:{nameof(RpalEngineOptions.SpinBudget)} is not read: the spin budget is one value for the whole process. Set {RpalConfigurationSections.Engine}:{nameof(RpalEngineOptions.SpinBudget)} instead.");
        }
    }

    public static IConfigurationSection? Section(IServiceProvider services, string path) =>
        services.GetService<IConfiguration>()?.GetSection(path);
}

/// <summary><see cref="RpalServerOptions"/> from <see cref="RpalConfigurationSections.Server"/>.</summary>
internal sealed class ServerOptionsFromConfiguration(IServiceProvider services) : IConfigureOptions<RpalServerOptions>
{
    public void Configure(RpalServerOptions options)
    {
        if (ConfigurationBinding.Section(services, RpalConfigurationSections.Server) is { } section)
        {
            ConfigurationBinding.BindServer(section, options);
        }
    }
}

/// <summary><see cref="RpalEngineOptions"/> from <see cref="RpalConfigurationSections.Engine"/>.</summary>
internal sealed class EngineOptionsFromConfiguration(IServiceProvider services) : IConfigureOptions<RpalEngineOptions>
{
    public void Configure(RpalEngineOptions options)
    {
        if (ConfigurationBinding.Section(services, RpalConfigurationSections.Engine) is { } section)
        {
            ConfigurationBinding.BindEngine(section, options);
        }
    }
}

/// <summary>Each client's <see cref="RpalClientOptions"/> (named by service) from <see cref="RpalConfigurationSections.Clients"/>:SERVICE.</summary>
internal sealed class ClientOptionsFromConfiguration(IServiceProvider services) : IConfigureNamedOptions<RpalClientOptions>
{
    public void Configure(string? name, RpalClientOptions options)
    {
        if (!string.IsNullOrEmpty(name) &&
            ConfigurationBinding.Section(services, $"{RpalConfigurationSections.Clients}:{name}") is { } section)
        {
            ConfigurationBinding.BindClient(section, options);
        }
    }

    public void Configure(RpalClientOptions options) => Configure(Options.DefaultName, options);
}
