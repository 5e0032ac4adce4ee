namespace Rpal.Rpc.TestContracts;

/// <summary>An unmanaged struct with padding between its fields, larger than an inline reply (32 bytes).</summary>
public readonly record struct Sample(byte Tag, long Id, int Count, Guid Key, Color Color, bool Flag, char Letter, decimal Amount);
