namespace Rpal.Rpc.TestContracts;

/// <summary>Served with RpalServerOptions.EnableDetailedErrors.</summary>
[RpalService(ServiceNames.DetailedErrors)]
public interface IDetailedErrorService
{
    /// <summary>Throws InvalidOperationException(message).</summary>
    void Fail(string message);
}
