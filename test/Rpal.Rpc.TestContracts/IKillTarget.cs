namespace Rpal.Rpc.TestContracts;

/// <summary>The server that ServerKilledTests kills and restarts.</summary>
[RpalService(ServiceNames.Kill)]
public interface IKillTarget : IProcessProbe
{
}
