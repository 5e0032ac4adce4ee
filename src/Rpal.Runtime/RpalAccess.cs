using Rpal.Runtime.Interop;

namespace Rpal.Runtime;

/// <summary>
/// Users admitted as the other end of a connection besides this process's own effective uid,
/// which is always admitted: a service's allowlist of clients
/// (<see cref="RpalServiceListener.Register"/>), or the servers a client trusts
/// (<see cref="RpalConnection.Connect"/>). A peer is admitted when its uid is in
/// <see cref="UserIds"/>, or its effective gid or one of its supplementary groups is in
/// <see cref="GroupIds"/>. The kernel reports the peer's credentials (SO_PEERCRED,
/// SO_PEERGROUPS): a peer cannot choose them. Peers of other users also need a runtime directory
/// shared with them (<see cref="RpalEngineOptions.RuntimeGroup"/>).
/// </summary>
public sealed class RpalAccess
{
    /// <summary>User ids admitted besides the own uid.</summary>
    public IList<uint> UserIds { get; } = [];

    /// <summary>Group ids whose members are admitted (effective or supplementary group).</summary>
    public IList<uint> GroupIds { get; } = [];

    /// <summary>Whether the lists are empty (only the own uid is admitted).</summary>
    public bool IsEmpty => UserIds.Count == 0 && GroupIds.Count == 0;

    internal static unsafe RpalNativeAccess ToNative(uint* uids, int uidCount, uint* gids, int gidCount) => new()
    {
        Uids = uidCount == 0 ? null : uids,
        UidCount = (uint)uidCount,
        Gids = gidCount == 0 ? null : gids,
        GidCount = (uint)gidCount,
    };
}
