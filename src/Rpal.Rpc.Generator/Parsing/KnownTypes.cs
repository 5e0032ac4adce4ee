using Microsoft.CodeAnalysis;

namespace Rpal.Rpc.Generator.Parsing;

/// <summary>The types the parser recognizes by identity, looked up once per parse.</summary>
internal sealed class KnownTypes
{
    public KnownTypes(Compilation compilation)
    {
        CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
        TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
        ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
        ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
        ReadOnlyMemoryOfT = compilation.GetTypeByMetadataName("System.ReadOnlyMemory`1");
        ReadOnlySpanOfT = compilation.GetTypeByMetadataName("System.ReadOnlySpan`1");
        MessageOfT = compilation.GetTypeByMetadataName("Google.Protobuf.IMessage`1");
        AsyncEnumerableOfT = compilation.GetTypeByMetadataName("System.Collections.Generic.IAsyncEnumerable`1");
    }

    public INamedTypeSymbol? CancellationToken { get; }

    public INamedTypeSymbol? Task { get; }

    public INamedTypeSymbol? TaskOfT { get; }

    public INamedTypeSymbol? ValueTask { get; }

    public INamedTypeSymbol? ValueTaskOfT { get; }

    public INamedTypeSymbol? ReadOnlyMemoryOfT { get; }

    public INamedTypeSymbol? ReadOnlySpanOfT { get; }

    /// <summary>Google.Protobuf.IMessage&lt;T&gt;; null when the compilation does not reference Google.Protobuf.</summary>
    public INamedTypeSymbol? MessageOfT { get; }

    /// <summary>System.Collections.Generic.IAsyncEnumerable&lt;T&gt;, a stream; null on a framework without it.</summary>
    public INamedTypeSymbol? AsyncEnumerableOfT { get; }

    /// <summary>The element type when <paramref name="type"/> is an <c>IAsyncEnumerable&lt;T&gt;</c>, else null.</summary>
    public ITypeSymbol? StreamElement(ITypeSymbol type) =>
        AsyncEnumerableOfT is not null
        && type is INamedTypeSymbol named
        && SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, AsyncEnumerableOfT)
            ? named.TypeArguments[0]
            : null;
}
