namespace Rpal.Rpc.TestContracts;

/// <summary>What a server saw of a <see cref="ReadOnlyMemory{T}"/> argument.</summary>
/// <param name="Address">The address of its first byte in the server process.</param>
/// <param name="Length">Its length.</param>
/// <param name="ArrayBacked">True when it was a managed array (a copy).</param>
/// <param name="HasMemoryManager">True when a MemoryManager (memory not owned by the GC) backs it.</param>
/// <param name="Checksum">FNV-1a of its bytes (<see cref="Checksums.Fnv1a64"/>).</param>
public readonly record struct MemoryProbe(ulong Address, int Length, bool ArrayBacked, bool HasMemoryManager, ulong Checksum);
