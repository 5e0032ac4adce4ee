namespace Rpal.Runtime;

/// <summary>
/// A librpal call failed. <see cref="Errno"/> holds the (positive) errno value the engine
/// returned, e.g. <see cref="RpalErrno.ENOENT"/> when nobody serves a name.
/// </summary>
public sealed class RpalException : IOException
{
    /// <summary>Creates an exception without an errno (0).</summary>
    public RpalException()
    {
    }

    /// <summary>Creates an exception with a message and no errno (0).</summary>
    public RpalException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message, an inner exception and no errno (0).</summary>
    public RpalException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// Creates an exception for <paramref name="errno"/> (either sign) returned by
    /// <paramref name="operation"/>; the message reads "operation: strerror text (ENAME)".
    /// </summary>
    public RpalException(int errno, string operation)
        : base($"{operation}: {RpalErrno.GetMessage(errno)} ({RpalErrno.GetName(errno)})")
    {
        Errno = Math.Abs(errno);
        Operation = operation;
    }

    /// <summary>The errno value, positive (0 when the exception was not made from one).</summary>
    public int Errno { get; }

    /// <summary>What failed, e.g. "rpal_request_service('echo')"; null when not made from an errno.</summary>
    public string? Operation { get; }
}
