using System.Linq;
using Microsoft.CodeAnalysis;
using Rpal.Rpc.Generator.Model;

namespace Rpal.Rpc.Generator.Parsing;

/// <summary>Decides whether, and how, a parameter or result type travels in a body.</summary>
internal static class WireTypeClassifier
{
    /// <summary>How generated code names types: <c>global::</c>-qualified, keywords for special types, nullable annotations kept.</summary>
    public static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>True when <paramref name="type"/> is, or is built from, a type the compiler could not bind (it reports that itself).</summary>
    public static bool ContainsErrors(ITypeSymbol type) => type switch
    {
        { TypeKind: TypeKind.Error } => true,
        IArrayTypeSymbol array => ContainsErrors(array.ElementType),
        IPointerTypeSymbol pointer => ContainsErrors(pointer.PointedAtType),
        INamedTypeSymbol named => named.TypeArguments.Any(ContainsErrors),
        _ => false,
    };

    /// <summary>
    /// The wire shape of a parameter of type <paramref name="type"/>, or null when Rpal cannot send
    /// it: what <see cref="Classify"/> accepts, and <c>ReadOnlySpan&lt;byte&gt;</c>, which a result
    /// cannot be (it would have to outlive the reply it points into).
    /// </summary>
    public static WireValue? ClassifyParameter(ITypeSymbol type, KnownTypes knownTypes)
    {
        if (type is INamedTypeSymbol named
            && SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, knownTypes.ReadOnlySpanOfT)
            && named.TypeArguments[0].SpecialType == SpecialType.System_Byte)
        {
            return new WireValue(type.ToDisplayString(TypeFormat), WireKind.Span, ElementTypeName: null, RejectsNull: false);
        }

        return Classify(type, knownTypes);
    }

    /// <summary>The wire shape of <paramref name="type"/> as a parameter or a result, or null when Rpal cannot send it.</summary>
    public static WireValue? Classify(ITypeSymbol type, KnownTypes knownTypes)
    {
        if (type.SpecialType == SpecialType.System_String)
        {
            return Reference(type, WireKind.String, elementTypeName: null);
        }

        if (type is IArrayTypeSymbol { IsSZArray: true } array)
        {
            if (array.ElementType.SpecialType == SpecialType.System_Byte)
            {
                return Reference(type, WireKind.ByteArray, elementTypeName: null);
            }

            if (IsUnmanagedValue(array.ElementType))
            {
                return Reference(type, WireKind.UnmanagedArray, array.ElementType.ToDisplayString(TypeFormat));
            }

            return null;
        }

        if (type is not INamedTypeSymbol named)
        {
            // Pointers, function pointers, type parameters, dynamic, multi-dimensional arrays.
            return null;
        }

        if (SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, knownTypes.ReadOnlyMemoryOfT)
            && named.TypeArguments[0].SpecialType == SpecialType.System_Byte)
        {
            return new WireValue(type.ToDisplayString(TypeFormat), WireKind.Memory, ElementTypeName: null, RejectsNull: false);
        }

        if (IsUnmanagedValue(named))
        {
            return new WireValue(type.ToDisplayString(TypeFormat), WireKind.Unmanaged, ElementTypeName: null, RejectsNull: false);
        }

        if (IsMessage(named, knownTypes))
        {
            return Reference(type, WireKind.Message, elementTypeName: null);
        }

        return null;
    }

    /// <summary>
    /// A value copied as its bytes: unmanaged (no references anywhere inside) and accepted by the
    /// writer's <c>where T : unmanaged</c>: not a ref struct, not a pointer (whose value means
    /// nothing in another process), and not <c>Nullable&lt;T&gt;</c>, which Roslyn counts as
    /// unmanaged but the constraint rejects (CS8377).
    /// </summary>
    private static bool IsUnmanagedValue(ITypeSymbol type) =>
        type.IsUnmanagedType
        && !type.IsRefLikeType
        && type.OriginalDefinition.SpecialType != SpecialType.System_Nullable_T
        && type.TypeKind is not (TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.TypeParameter);

    /// <summary>A protoc-generated message: a class implementing IMessage&lt;itself&gt; with a static Parser.</summary>
    private static bool IsMessage(INamedTypeSymbol type, KnownTypes knownTypes)
    {
        if (knownTypes.MessageOfT is null || type.TypeKind != TypeKind.Class || type.IsAbstract)
        {
            return false;
        }

        bool implementsMessage = type.AllInterfaces.Any(i =>
            SymbolEqualityComparer.Default.Equals(i.OriginalDefinition, knownTypes.MessageOfT)
            && SymbolEqualityComparer.Default.Equals(i.TypeArguments[0], type));
        if (!implementsMessage)
        {
            return false;
        }

        return type.GetMembers("Parser").Any(m => m is IPropertySymbol { IsStatic: true, DeclaredAccessibility: Accessibility.Public });
    }

    /// <summary>
    /// A reference type keeps a '?' when declared nullable, and gains one when declared in an
    /// oblivious context: only a type declared non-nullable rejects a null from the peer.
    /// </summary>
    private static WireValue Reference(ITypeSymbol type, WireKind kind, string? elementTypeName)
    {
        bool rejectsNull = type.NullableAnnotation == NullableAnnotation.NotAnnotated;
        ITypeSymbol declared = rejectsNull ? type : type.WithNullableAnnotation(NullableAnnotation.Annotated);
        return new WireValue(declared.ToDisplayString(TypeFormat), kind, elementTypeName, rejectsNull);
    }
}
