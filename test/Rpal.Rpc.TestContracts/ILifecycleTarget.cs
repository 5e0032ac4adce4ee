namespace Rpal.Rpc.TestContracts;

/// <summary>The server that ServerLifecycleTests stops and replaces.</summary>
[RpalService(ServiceNames.Lifecycle)]
public interface ILifecycleTarget : IProcessProbe
{
}
