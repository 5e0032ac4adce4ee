namespace Rpal.Rpc.TestContracts;

/// <summary>
/// Handlers that call back into their caller (BlockedHandlerTests): A.Outer calls B.Middle,
/// which calls A.Inner while A.Outer still waits on A's receiver thread. With one receiver thread
/// on each side that is a deadlock unless a blocked handler gives its receiver up.
/// </summary>
public interface ICallbackProbe
{
    /// <summary>The peer's <see cref="Middle"/>(<paramref name="value"/>) + 1, called synchronously.</summary>
    int Outer(int value);

    /// <summary>
    /// As <see cref="Outer"/>, through the peer's <see cref="MiddleAsync"/> waited for with
    /// <c>.Result</c> (sync over async: nothing tells the receiver that the thread blocks).
    /// </summary>
    int OuterSyncOverAsync(int value);

    /// <summary>The peer's <see cref="Inner"/>(<paramref name="value"/>) + 1, called synchronously.</summary>
    int Middle(int value);

    /// <summary>As <see cref="Middle"/>, for an awaited caller.</summary>
    ValueTask<int> MiddleAsync(int value);

    /// <summary><paramref name="value"/> * 2.</summary>
    int Inner(int value);
}

/// <summary>The side a child process serves.</summary>
[RpalService(ServiceNames.CallbackA)]
public interface ICallbackA : ICallbackProbe
{
}

/// <summary>The side the test process serves.</summary>
[RpalService(ServiceNames.CallbackB)]
public interface ICallbackB : ICallbackProbe
{
}
