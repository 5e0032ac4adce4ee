using System.Diagnostics.CodeAnalysis;

namespace Rpal.Runtime;

/// <summary>Throw helpers kept out of line, so the methods that call them stay small.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    internal static void ThrowRpal(int result, string operation) => throw new RpalException(result, operation);

    [DoesNotReturn]
    internal static void ThrowDisposed(object instance) => throw new ObjectDisposedException(instance.GetType().FullName);

    [DoesNotReturn]
    internal static void ThrowNotStarted() =>
        throw new InvalidOperationException("RpalEngine.Start() has not been called in this process.");
}
