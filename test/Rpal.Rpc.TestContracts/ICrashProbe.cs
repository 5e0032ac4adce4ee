namespace Rpal.Rpc.TestContracts;

/// <summary>
/// The methods of the servers that the Crash tests kill, race and crash clients against: the
/// <see cref="IProcessProbe"/> calls, calls whose bodies travel in arena payloads, and the
/// server's own count of its resources.
/// </summary>
public interface ICrashProbe : IProcessProbe
{
    /// <summary>FNV-1a of <paramref name="data"/> (<see cref="Checksums.Fnv1a64"/>).</summary>
    ulong Checksum(ReadOnlyMemory<byte> data);

    /// <summary><paramref name="length"/> bytes, byte i being (byte)(i * 31 + seed).</summary>
    byte[] Fill(int length, byte seed);

    /// <summary>The server's open descriptors, mappings, resident memory and connections now.</summary>
    ServerResources GetResources();
}

/// <summary>The server that CrashServerKilledTests kills with calls in flight and restarts.</summary>
[RpalService(ServiceNames.CrashServer)]
public interface ICrashServerTarget : ICrashProbe
{
}

/// <summary>The server whose client processes CrashClientKilledTests kills.</summary>
[RpalService(ServiceNames.CrashClients)]
public interface ICrashClientsTarget : ICrashProbe
{
}

/// <summary>The name that CrashRegistryTests leaves stale and races for.</summary>
[RpalService(ServiceNames.CrashRegistry)]
public interface ICrashRegistryTarget : ICrashProbe
{
}
