namespace Rpal.Rpc.TestContracts;

/// <summary>What a server process holds, as it counts it itself.</summary>
/// <param name="OpenFds">Entries of /proc/self/fd.</param>
/// <param name="Mappings">Lines of /proc/self/maps.</param>
/// <param name="ResidentBytes">Resident set size (/proc/self/statm, second field, times the page size).</param>
/// <param name="Connections">The server's live connections, or -1 where it cannot tell.</param>
public readonly record struct ServerResources(int OpenFds, int Mappings, long ResidentBytes, int Connections);
