namespace Rpal.Rpc.Generated;

/// <summary>The empty body: a method without parameters or without a result.</summary>
public readonly struct RpalVoid : IRpalResponse<RpalVoid, RpalVoid>
{
    /// <inheritdoc/>
    public RpalVoid Value => default;

    /// <inheritdoc/>
    public static RpalVoid FromValue(RpalVoid value) => default;

    /// <inheritdoc/>
    public static RpalVoid Read(scoped ref RpalReader reader) => default;

    /// <inheritdoc/>
    public int GetSize() => 0;

    /// <inheritdoc/>
    public void Write(ref RpalWriter writer)
    {
    }
}
