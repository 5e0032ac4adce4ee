using System.Text;

namespace Rpal.Rpc.Generator.Parsing;

/// <summary>
/// The wire id of a method, computed at build time exactly as Rpal.Rpc.Generated.RpalMethod.ComputeId
/// computes it at run time: FNV-1a (32 bits) over the UTF-8 bytes of the signature, 0 becoming 1.
/// A test checks that both agree.
/// </summary>
internal static class MethodId
{
    private const uint OffsetBasis = 2166136261;
    private const uint Prime = 16777619;

    public static uint Compute(string signature)
    {
        uint hash = OffsetBasis;
        foreach (byte b in Encoding.UTF8.GetBytes(signature))
        {
            hash = unchecked((hash ^ b) * Prime);
        }

        return hash == 0 ? 1 : hash;
    }
}
