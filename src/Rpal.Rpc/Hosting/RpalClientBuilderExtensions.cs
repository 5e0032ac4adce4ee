using Rpal.Rpc.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Configures a client of <c>AddRpalClient</c>.</summary>
public static class RpalClientBuilderExtensions
{
    /// <summary>
    /// Sets the client's <see cref="RpalClientOptions"/> (reconnect delays, and its channel's
    /// options through <see cref="RpalClientOptions.Channel"/>), after the configuration's.
    /// </summary>
    public static IRpalClientBuilder ConfigureClient(this IRpalClientBuilder builder, Action<RpalClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(builder.ServiceName, configure);
        return builder;
    }
}
