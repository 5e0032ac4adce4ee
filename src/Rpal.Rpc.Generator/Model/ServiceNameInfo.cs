namespace Rpal.Rpc.Generator.Model;

/// <summary>A service's registered name, the interface that has it, and where the name is written.</summary>
internal sealed record ServiceNameInfo(string Name, string InterfaceName, LocationInfo? Location);
