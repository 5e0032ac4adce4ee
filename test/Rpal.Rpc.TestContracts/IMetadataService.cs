namespace Rpal.Rpc.TestContracts;

/// <summary>Handlers that read request headers and set response trailers through RpalServerCallContext.Current.</summary>
[RpalService(ServiceNames.Metadata)]
public interface IMetadataService
{
    /// <summary>The value of a text request header, or null.</summary>
    string? GetHeader(string key);

    /// <summary>The value of a binary ("-bin") request header, or null.</summary>
    byte[]? GetBinaryHeader(string key);

    int CountHeaders();

    /// <summary>Adds a trailer and returns 7.</summary>
    int SetTrailer(string key, string value);

    /// <summary>Adds a trailer after suspending (through the context kept in a local) and returns 7.</summary>
    ValueTask<int> SetTrailerAfterYieldAsync(string key, string value);

    /// <summary>Adds a trailer, then throws InvalidOperationException(message).</summary>
    void SetTrailerThenThrow(string key, string value, string message);

    /// <summary>"METHOD|PEER|HOST" of the call context.</summary>
    string DescribeContext();
}
