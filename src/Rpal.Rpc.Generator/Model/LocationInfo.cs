using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Rpal.Rpc.Generator.Model;

/// <summary>
/// Where a diagnostic points, as plain data (a <see cref="Location"/> holds its syntax tree,
/// which would keep the whole compilation alive and defeat caching).
/// </summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location)
    {
        if (location is null || !location.IsInSource)
        {
            return null;
        }

        return new LocationInfo(location.SourceTree!.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }

    public static LocationInfo? From(SyntaxNode? node) => From(node?.GetLocation());
}
