namespace Rpal.Rpc.Generated;

/// <summary>
/// Serves the calls of one service: the generated subclass switches on
/// <see cref="RpalServerCall.MethodId"/>, reads the request, calls the implementation and
/// completes the call. It runs on the server's receiver thread.
/// </summary>
public abstract class RpalServiceDispatcher
{
    /// <summary>
    /// Serves one call. An exception thrown here fails the call (the server maps it to a
    /// status); the call must be completed exactly once, now or later.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716", Justification = "C# is the only language the generator emits.")]
    public abstract void Dispatch(RpalServerCall call);
}
