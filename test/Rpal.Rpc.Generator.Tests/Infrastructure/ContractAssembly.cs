using Microsoft.CodeAnalysis;

namespace Rpal.Rpc.Generator.Tests.Infrastructure;

/// <summary>An in-memory Rpal.Rpc: the reference to compile against and the image to load.</summary>
internal sealed record ContractAssembly(MetadataReference Reference, byte[] Image);
