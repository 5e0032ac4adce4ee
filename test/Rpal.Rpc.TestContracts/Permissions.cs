namespace Rpal.Rpc.TestContracts;

/// <summary>A 64-bit flags enum, with a bit above 32.</summary>
[Flags]
public enum Permissions : long
{
    None = 0,
    Read = 1,
    Write = 2,
    Admin = 1L << 40,
}
