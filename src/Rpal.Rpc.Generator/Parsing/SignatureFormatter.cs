using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis;

namespace Rpal.Rpc.Generator.Parsing;

/// <summary>
/// Writes the signature that a method's wire id hashes: <c>Name(T1,T2)</c>, where each type is
/// its namespace, containing types and name joined by '.', then its type arguments in '&lt;&gt;'
/// separated by ',' and array ranks as "[]": <c>System.Int32</c>, <c>System.String[]</c>,
/// <c>System.ReadOnlyMemory&lt;System.Byte&gt;</c>, <c>System.Nullable&lt;System.Int32&gt;</c>,
/// <c>Demo.Outer.Inner</c>, <c>System.ValueTuple&lt;System.Int32,System.Int32&gt;</c>. No spaces,
/// no <c>global::</c>, no C# keywords, no nullable reference annotations, no tuple element names:
/// renaming a parameter, a tuple element or annotating nullability leaves the id unchanged;
/// changing a type, or the method's name, changes it. The trailing cancellation token is left out.
/// </summary>
internal static class SignatureFormatter
{
    public static string Format(string methodName, IEnumerable<ITypeSymbol> parameterTypes)
    {
        var builder = new StringBuilder(methodName);
        builder.Append('(');
        bool first = true;
        foreach (ITypeSymbol type in parameterTypes)
        {
            if (!first)
            {
                builder.Append(',');
            }

            AppendType(builder, type);
            first = false;
        }

        builder.Append(')');
        return builder.ToString();
    }

    public static string FormatType(ITypeSymbol type)
    {
        var builder = new StringBuilder();
        AppendType(builder, type);
        return builder.ToString();
    }

    private static void AppendType(StringBuilder builder, ITypeSymbol type)
    {
        switch (type)
        {
            case IArrayTypeSymbol array:
                AppendType(builder, array.ElementType);
                builder.Append('[').Append(',', array.Rank - 1).Append(']');
                return;
            case IPointerTypeSymbol pointer:
                AppendType(builder, pointer.PointedAtType);
                builder.Append('*');
                return;
            case INamedTypeSymbol named:
                AppendNamedType(builder, named.TupleUnderlyingType ?? named);
                return;
            default:
                builder.Append(type.Name);
                return;
        }
    }

    private static void AppendNamedType(StringBuilder builder, INamedTypeSymbol type)
    {
        if (type.ContainingType is { } containingType)
        {
            AppendNamedType(builder, containingType);
            builder.Append('.');
        }
        else if (type.ContainingNamespace is { IsGlobalNamespace: false } ns)
        {
            AppendNamespace(builder, ns);
            builder.Append('.');
        }

        builder.Append(type.Name);
        if (type.TypeArguments.Length > 0)
        {
            builder.Append('<');
            for (int i = 0; i < type.TypeArguments.Length; i++)
            {
                if (i > 0)
                {
                    builder.Append(',');
                }

                AppendType(builder, type.TypeArguments[i]);
            }

            builder.Append('>');
        }
    }

    private static void AppendNamespace(StringBuilder builder, INamespaceSymbol ns)
    {
        if (ns.ContainingNamespace is { IsGlobalNamespace: false } parent)
        {
            AppendNamespace(builder, parent);
            builder.Append('.');
        }

        builder.Append(ns.Name);
    }
}
