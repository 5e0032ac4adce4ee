namespace Rpal.Runtime.Tests;

/// <summary>The handler of a receiver that is only given posted work, never a connection.</summary>
internal sealed class NoEvents : IRpalReceiverHandler
{
    public void OnEvents(RpalConnection connection, ulong token, uint events) =>
        throw new InvalidOperationException("no connection was added");
}
