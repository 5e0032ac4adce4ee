namespace Rpal.Rpc.Generated;

/// <summary>
/// A body read from another process was malformed (a length past its end, invalid UTF-8, a
/// protobuf message that does not parse). The call fails with
/// <see cref="Grpc.Core.StatusCode.Internal"/>; the connection and the process go on.
/// </summary>
public sealed class RpalDecodeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RpalDecodeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public RpalDecodeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RpalDecodeException()
        : base("A message body from the peer is malformed.")
    {
    }
}
