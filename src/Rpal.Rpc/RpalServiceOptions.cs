using Rpal.Runtime;

namespace Rpal.Rpc;

/// <summary>
/// Settings of one service of an <see cref="RpalServer"/>, given to
/// <see cref="RpalServer.AddService{TService}(TService, RpalServiceOptions?)"/>; a service added
/// without them takes the server's (<see cref="RpalServerOptions.AllowedPeers"/>,
/// <see cref="RpalServerOptions.MaxConnectionsPerService"/>).
/// </summary>
public sealed class RpalServiceOptions
{
    /// <summary>
    /// Users and groups whose clients this service admits besides this process's own user.
    /// Empty by default: same user only.
    /// </summary>
    public RpalAccess AllowedPeers { get; } = new();

    /// <summary>Clients this service accepts at once. Default 1024; 0 means no limit.</summary>
    public int MaxConnections { get; set; } = 1024;
}
