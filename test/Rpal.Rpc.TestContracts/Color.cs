namespace Rpal.Rpc.TestContracts;

/// <summary>A byte-sized enum.</summary>
public enum Color : byte
{
    None = 0,
    Red = 1,
    Green = 2,
    Blue = 255,
}
