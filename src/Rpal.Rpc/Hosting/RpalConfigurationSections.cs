namespace Rpal.Rpc.Hosting;

/// <summary>
/// The configuration sections that <c>AddRpalServer</c> and <c>AddRpalClient</c> bind from the
/// container's <c>IConfiguration</c> (appsettings.json, environment variables <c>Rpal__Server__...</c>),
/// before the code's own configure delegates run (docs/hosting.md).
/// </summary>
public static class RpalConfigurationSections
{
    /// <summary><see cref="RpalServerOptions"/>: <c>Rpal:Server</c>.</summary>
    public const string Server = "Rpal:Server";

    /// <summary><see cref="Rpal.Runtime.RpalEngineOptions"/>, applied once per process: <c>Rpal:Engine</c>.</summary>
    public const string Engine = "Rpal:Engine";

    /// <summary>
    /// Each hosted service's own <see cref="RpalServiceOptions"/>: <c>Rpal:Services:SERVICE</c>
    /// (SERVICE its registered name). A service with such a section, or with a configure delegate,
    /// has its own options and no longer takes the server's AllowedPeers and MaxConnectionsPerService.
    /// </summary>
    public const string Services = "Rpal:Services";

    /// <summary>
    /// Each client's <see cref="RpalClientOptions"/>: <c>Rpal:Clients:SERVICE</c>, where both the
    /// channel's keys (DefaultTimeout, MaxConcurrentCalls...) and the client's
    /// (ReconnectDelay, MaxReconnectDelay) sit side by side.
    /// </summary>
    public const string Clients = "Rpal:Clients";
}
