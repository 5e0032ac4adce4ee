namespace Rpal.Rpc.TestContracts;

/// <summary>A checksum both processes compute over the same bytes.</summary>
public static class Checksums
{
    /// <summary>64-bit FNV-1a.</summary>
    public static ulong Fnv1a64(ReadOnlySpan<byte> data)
    {
        ulong hash = 14695981039346656037;
        foreach (byte b in data)
        {
            hash = (hash ^ b) * 1099511628211;
        }

        return hash;
    }
}
