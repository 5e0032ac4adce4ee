using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Rpal.Rpc.Generator.Diagnostics;
using Rpal.Rpc.Generator.Model;

namespace Rpal.Rpc.Generator.Parsing;

/// <summary>
/// Turns one [RpalService] declaration into a <see cref="ServiceResult"/>: the equatable model
/// the emitter needs, or the diagnostics that explain why there is none. Nothing it returns
/// holds a symbol, a syntax node or the compilation.
/// </summary>
/// <remarks>
/// Which members make up a service: the abstract instance methods of the interface and of every
/// interface it inherits (inherited methods are supported: they are called through the
/// interface that declares them). Members with a body (default implementations) and static
/// members run locally and are not part of the service. Abstract properties, indexers and
/// events, and static abstract or virtual members, are errors.
/// </remarks>
internal static class ServiceParser
{
    public static ServiceResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type
            || context.TargetNode is not BaseTypeDeclarationSyntax declaration
            || context.Attributes.IsEmpty
            || !IsFirstApplication(type, context.Attributes[0]))
        {
            return ServiceResult.Nothing;
        }

        var parser = new Parser(context, type, declaration, cancellationToken);
        return parser.Parse();
    }

    /// <summary>
    /// A partial interface marked twice (an error the compiler reports) is seen once per
    /// declaration; only the first application produces output, so no file is added twice.
    /// </summary>
    private static bool IsFirstApplication(INamedTypeSymbol type, AttributeData attribute)
    {
        AttributeData? first = type.GetAttributes().FirstOrDefault(a =>
            SymbolEqualityComparer.Default.Equals(a.AttributeClass, attribute.AttributeClass));
        SyntaxReference? firstSyntax = first?.ApplicationSyntaxReference;
        SyntaxReference? thisSyntax = attribute.ApplicationSyntaxReference;
        return firstSyntax is null || thisSyntax is null
            || (firstSyntax.SyntaxTree == thisSyntax.SyntaxTree && firstSyntax.Span == thisSyntax.Span);
    }

    private sealed class Parser
    {
        private readonly GeneratorAttributeSyntaxContext _context;
        private readonly INamedTypeSymbol _type;
        private readonly BaseTypeDeclarationSyntax _declaration;
        private readonly CancellationToken _cancellationToken;
        private readonly KnownTypes _knownTypes;
        private readonly List<DiagnosticInfo> _diagnostics = new();
        private readonly LocationInfo? _interfaceLocation;
        private bool _hasErrors;

        public Parser(GeneratorAttributeSyntaxContext context, INamedTypeSymbol type, BaseTypeDeclarationSyntax declaration, CancellationToken cancellationToken)
        {
            _context = context;
            _type = type;
            _declaration = declaration;
            _cancellationToken = cancellationToken;
            _knownTypes = new KnownTypes(context.SemanticModel.Compilation);
            _interfaceLocation = LocationInfo.From(declaration.Identifier.GetLocation());
        }

        public ServiceResult Parse()
        {
            string displayName = _type.ToDisplayString();
            if (_type.TypeKind != TypeKind.Interface)
            {
                Report(DiagnosticDescriptors.ServiceMustBeInterface, _interfaceLocation, displayName);
                return Result(model: null, serviceName: null);
            }

            ServiceNameInfo? serviceName = ParseServiceName(displayName);

            if (_declaration.SyntaxTree.Options is CSharpParseOptions { LanguageVersion: < LanguageVersion.CSharp11 } options)
            {
                Report(DiagnosticDescriptors.LanguageVersionTooLow, _interfaceLocation, displayName, options.LanguageVersion.ToDisplayString());
            }

            if (_type.IsGenericType)
            {
                LocationInfo? location = LocationInfo.From((_declaration as TypeDeclarationSyntax)?.TypeParameterList) ?? _interfaceLocation;
                Report(DiagnosticDescriptors.GenericServiceInterface, location, displayName);
            }

            if (InaccessibilityReason(_type) is { } reason)
            {
                Report(DiagnosticDescriptors.InaccessibleServiceInterface, _interfaceLocation, displayName, reason);
            }

            List<MethodModel> methods = ParseMethods();
            if (_hasErrors || serviceName is null)
            {
                return Result(model: null, serviceName);
            }

            var model = new ServiceModel(
                HintName: HintName(_type),
                Namespace: _type.ContainingNamespace.IsGlobalNamespace ? null : _type.ContainingNamespace.ToDisplayString(),
                ContainerName: ContainerName(_type),
                InterfaceName: _type.ToDisplayString(WireTypeClassifier.TypeFormat),
                ServiceName: serviceName.Name,
                Methods: methods.ToEquatableArray());
            return Result(model, serviceName);
        }

        private ServiceResult Result(ServiceModel? model, ServiceNameInfo? serviceName) =>
            new(model, _diagnostics.ToEquatableArray(), serviceName);

        private ServiceNameInfo? ParseServiceName(string displayName)
        {
            AttributeData attribute = _context.Attributes[0];
            if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Kind == TypedConstantKind.Error)
            {
                // The compiler reports the malformed attribute; there is nothing to generate.
                _hasErrors = true;
                return null;
            }

            string? name = attribute.ConstructorArguments[0].Value as string;
            var argument = (attribute.ApplicationSyntaxReference?.GetSyntax(_cancellationToken) as AttributeSyntax)?.ArgumentList?.Arguments.FirstOrDefault();
            LocationInfo? location = LocationInfo.From(argument) ?? _interfaceLocation;
            if (!ServiceNameRules.IsValid(name))
            {
                Report(DiagnosticDescriptors.InvalidServiceName, location, name ?? "null");
                return null;
            }

            return new ServiceNameInfo(name!, displayName, location);
        }

        private List<MethodModel> ParseMethods()
        {
            var found = new List<(IMethodSymbol Method, INamedTypeSymbol Declaring)>();
            CollectMembers(_type, found);
            foreach (INamedTypeSymbol inherited in _type.AllInterfaces)
            {
                CollectMembers(inherited, found);
            }

            var names = found.GroupBy(f => f.Method.Name).ToDictionary(g => g.Key, g => g.Count());
            var overloadIndex = new Dictionary<string, int>();
            var keys = new HashSet<string>();
            var models = new List<MethodModel>();
            var byId = new Dictionary<uint, MethodModel>();
            foreach ((IMethodSymbol method, INamedTypeSymbol declaring) in found)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                string key = method.Name;
                if (names[method.Name] > 1)
                {
                    overloadIndex.TryGetValue(method.Name, out int index);
                    overloadIndex[method.Name] = ++index;
                    key = method.Name + "_" + index;
                }

                while (!keys.Add(key))
                {
                    key += "_";
                }

                MethodModel? model = ParseMethod(method, declaring, key);
                if (model is null)
                {
                    continue;
                }

                if (byId.TryGetValue(model.Id, out MethodModel? other))
                {
                    Report(DiagnosticDescriptors.MethodIdCollision, MethodLocation(method), model.Signature, model.Id.ToString("X8", CultureInfo.InvariantCulture), other.Signature, _type.ToDisplayString());
                    continue;
                }

                byId.Add(model.Id, model);
                models.Add(model);
            }

            return models;
        }

        private void CollectMembers(INamedTypeSymbol declaring, List<(IMethodSymbol, INamedTypeSymbol)> found)
        {
            foreach (ISymbol member in declaring.GetMembers())
            {
                _cancellationToken.ThrowIfCancellationRequested();
                if (member.IsStatic)
                {
                    // Accessors are reported with their property or event.
                    if ((member.IsAbstract || member.IsVirtual) && member is not IMethodSymbol { AssociatedSymbol: not null })
                    {
                        Report(DiagnosticDescriptors.StaticAbstractMember, MemberLocation(member), member.ToDisplayString());
                    }

                    continue;
                }

                if (!member.IsAbstract)
                {
                    // A default implementation runs where it is called, like any local code.
                    continue;
                }

                switch (member)
                {
                    case IMethodSymbol { MethodKind: MethodKind.Ordinary } method:
                        found.Add((method, declaring));
                        break;
                    case IPropertySymbol property:
                        Report(DiagnosticDescriptors.UnsupportedMember, MemberLocation(member), member.ToDisplayString(), property.IsIndexer ? "an indexer" : "a property");
                        break;
                    case IEventSymbol:
                        Report(DiagnosticDescriptors.UnsupportedMember, MemberLocation(member), member.ToDisplayString(), "an event");
                        break;
                    default:
                        // Accessors are reported with their property or event; re-abstracted
                        // base members (abstract explicit implementations) stay with the base.
                        break;
                }
            }
        }

        private MethodModel? ParseMethod(IMethodSymbol method, INamedTypeSymbol declaring, string key)
        {
            bool valid = true;
            var methodSyntax = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(_cancellationToken) as MethodDeclarationSyntax;
            if (method.IsGenericMethod)
            {
                Report(DiagnosticDescriptors.GenericMethod, LocationInfo.From(methodSyntax?.TypeParameterList) ?? MethodLocation(method), method.Name);
                valid = false;
            }

            // A streaming call's request is sent by value and read while the streams run, long
            // after the call site has returned: it cannot hold a span (RPAL1018).
            bool streaming = _knownTypes.StreamElement(method.ReturnType) is not null
                || method.Parameters.Any(p => _knownTypes.StreamElement(p.Type) is not null);
            StreamParameterModel? inputStream = null;
            string? streamParameterName = null;
            var parameters = new List<ParameterModel>();
            var signatureTypes = new List<ITypeSymbol>();
            var fieldNames = new HashSet<string> { "GetSize", "Write", "Read", "Equals", "GetHashCode", "ToString", "GetType", "MemberwiseClone", "Finalize", "ReferenceEquals", key + "Request" };
            string? cancellationTokenName = null;
            for (int i = 0; i < method.Parameters.Length; i++)
            {
                IParameterSymbol parameter = method.Parameters[i];
                var parameterSyntax = parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(_cancellationToken) as ParameterSyntax;
                LocationInfo? parameterLocation = LocationInfo.From(parameterSyntax) ?? MethodLocation(method);
                if (RefKindText(parameter) is { } refKind)
                {
                    Report(DiagnosticDescriptors.ByReferenceParameter, parameterLocation, parameter.Name, method.Name, refKind);
                    valid = false;
                    continue;
                }

                if (WireTypeClassifier.ContainsErrors(parameter.Type))
                {
                    _hasErrors = true;
                    valid = false;
                    continue;
                }

                if (SymbolEqualityComparer.Default.Equals(parameter.Type, _knownTypes.CancellationToken))
                {
                    if (i != method.Parameters.Length - 1)
                    {
                        Report(DiagnosticDescriptors.CancellationTokenNotLast, parameterLocation, parameter.Name, method.Name);
                        valid = false;
                    }

                    cancellationTokenName = EscapeIdentifier(parameter.Name);
                    continue;
                }

                if (_knownTypes.StreamElement(parameter.Type) is { } elementType)
                {
                    if (streamParameterName is not null)
                    {
                        Report(DiagnosticDescriptors.SeveralStreamParameters, parameterLocation, parameter.Name, method.Name);
                        valid = false;
                        continue;
                    }

                    // The stream is not part of the request: its elements follow it, one by one.
                    streamParameterName = parameter.Name;
                    WireValue? element = ParseStreamElement(method, parameter.Type, elementType, parameterSyntax?.Type, parameterLocation, $"The parameter '{parameter.Name}'");
                    if (element is null)
                    {
                        valid = false;
                        continue;
                    }

                    inputStream = new StreamParameterModel(EscapeIdentifier(parameter.Name), parameters.Count, element);
                    signatureTypes.Add(parameter.Type);
                    continue;
                }

                WireValue? value = WireTypeClassifier.ClassifyParameter(parameter.Type, _knownTypes);
                if (value is null)
                {
                    Report(DiagnosticDescriptors.UnsupportedParameterType, LocationInfo.From(parameterSyntax?.Type) ?? parameterLocation, parameter.Name, method.Name, parameter.Type.ToDisplayString());
                    valid = false;
                    continue;
                }

                if (value.Kind == WireKind.Span && streaming)
                {
                    Report(DiagnosticDescriptors.SpanParameterInStreamingMethod, LocationInfo.From(parameterSyntax?.Type) ?? parameterLocation, parameter.Name, method.Name);
                    valid = false;
                    continue;
                }

                if (value.Kind == WireKind.Span &&
                    _declaration.SyntaxTree.Options is CSharpParseOptions { LanguageVersion: < LanguageVersion.CSharp13 } spanOptions)
                {
                    Report(DiagnosticDescriptors.SpanParameterNeedsCSharp13, LocationInfo.From(parameterSyntax?.Type) ?? parameterLocation, parameter.Name, method.Name, spanOptions.LanguageVersion.ToDisplayString());
                    valid = false;
                    continue;
                }

                string fieldName = parameter.Name;
                while (!fieldNames.Add(fieldName))
                {
                    fieldName += "_";
                }

                parameters.Add(new ParameterModel(EscapeIdentifier(parameter.Name), EscapeIdentifier(fieldName), value));
                signatureTypes.Add(parameter.Type);
            }

            (ReturnKind returnKind, WireValue? result, bool returnValid) = ParseReturn(method, methodSyntax, streamParameterName);
            if (!valid || !returnValid)
            {
                return null;
            }

            string signature = SignatureFormatter.Format(method.Name, signatureTypes);
            return new MethodModel(
                Name: EscapeIdentifier(method.Name),
                MetadataName: method.Name,
                Key: key,
                Signature: signature,
                Id: MethodId.Compute(signature),
                DeclaringInterface: declaring.ToDisplayString(WireTypeClassifier.TypeFormat),
                Parameters: parameters.ToEquatableArray(),
                InputStream: inputStream,
                CancellationTokenName: cancellationTokenName,
                ReturnKind: returnKind,
                Result: result);
        }

        /// <summary>
        /// The result's shape, or invalid (reported). <paramref name="streamParameterName"/> names
        /// the method's input stream, if any: such a method cannot answer synchronously.
        /// </summary>
        private (ReturnKind Kind, WireValue? Result, bool Valid) ParseReturn(IMethodSymbol method, MethodDeclarationSyntax? methodSyntax, string? streamParameterName)
        {
            ITypeSymbol returnType = method.ReturnType;
            if (WireTypeClassifier.ContainsErrors(returnType))
            {
                _hasErrors = true;
                return (ReturnKind.Void, null, false);
            }

            LocationInfo? location = LocationInfo.From(methodSyntax?.ReturnType) ?? MethodLocation(method);
            if (!method.ReturnsByRef && !method.ReturnsByRefReadonly)
            {
                if (_knownTypes.StreamElement(returnType) is { } elementType)
                {
                    WireValue? element = ParseStreamElement(method, returnType, elementType, methodSyntax?.ReturnType, location, "The result");
                    return element is null ? (ReturnKind.Void, null, false) : (ReturnKind.Stream, element, true);
                }

                ITypeSymbol definition = returnType.OriginalDefinition;
                bool isTask = SymbolEqualityComparer.Default.Equals(definition, _knownTypes.Task)
                    || SymbolEqualityComparer.Default.Equals(definition, _knownTypes.ValueTask)
                    || SymbolEqualityComparer.Default.Equals(definition, _knownTypes.TaskOfT)
                    || SymbolEqualityComparer.Default.Equals(definition, _knownTypes.ValueTaskOfT);
                if (streamParameterName is not null && !isTask)
                {
                    Report(DiagnosticDescriptors.StreamParameterNeedsAsyncReturn, location, method.Name, streamParameterName, returnType.ToDisplayString());
                    return (ReturnKind.Void, null, false);
                }

                if (returnType.SpecialType == SpecialType.System_Void)
                {
                    return (ReturnKind.Void, null, true);
                }

                if (SymbolEqualityComparer.Default.Equals(definition, _knownTypes.Task))
                {
                    return (ReturnKind.Task, null, true);
                }

                if (SymbolEqualityComparer.Default.Equals(definition, _knownTypes.ValueTask))
                {
                    return (ReturnKind.ValueTask, null, true);
                }

                ReturnKind kind = ReturnKind.Value;
                ITypeSymbol valueType = returnType;
                if (SymbolEqualityComparer.Default.Equals(definition, _knownTypes.TaskOfT))
                {
                    kind = ReturnKind.TaskOfValue;
                    valueType = ((INamedTypeSymbol)returnType).TypeArguments[0];
                }
                else if (SymbolEqualityComparer.Default.Equals(definition, _knownTypes.ValueTaskOfT))
                {
                    kind = ReturnKind.ValueTaskOfValue;
                    valueType = ((INamedTypeSymbol)returnType).TypeArguments[0];
                }

                if (kind != ReturnKind.Value && _knownTypes.StreamElement(valueType) is not null)
                {
                    Report(DiagnosticDescriptors.StreamInTask, location, method.Name, returnType.ToDisplayString());
                    return (ReturnKind.Void, null, false);
                }

                if (WireTypeClassifier.Classify(valueType, _knownTypes) is { } value)
                {
                    return (kind, value, true);
                }
            }

            string shown = (method.ReturnsByRef ? "ref " : method.ReturnsByRefReadonly ? "ref readonly " : string.Empty) + returnType.ToDisplayString();
            Report(DiagnosticDescriptors.UnsupportedReturnType, location, method.Name, shown);
            return (ReturnKind.Void, null, false);
        }

        /// <summary>
        /// How the elements of a stream parameter or result travel, or null (reported) when the
        /// stream is declared nullable or its elements are of a type Rpal cannot send. Elements
        /// follow the rules of results: no span, which would outlive the message it points into.
        /// <paramref name="subject"/> is what streams, as a message starts: "The parameter 'x'" or "The result".
        /// </summary>
        private WireValue? ParseStreamElement(IMethodSymbol method, ITypeSymbol streamType, ITypeSymbol elementType, TypeSyntax? streamSyntax, LocationInfo? fallback, string subject)
        {
            LocationInfo? location = LocationInfo.From(streamSyntax) ?? fallback;
            if (streamType.NullableAnnotation == NullableAnnotation.Annotated)
            {
                Report(DiagnosticDescriptors.NullableStream, location, subject, method.Name, streamType.ToDisplayString());
                return null;
            }

            WireValue? element = WireTypeClassifier.Classify(elementType, _knownTypes);
            if (element is null)
            {
                Report(DiagnosticDescriptors.UnsupportedStreamElementType, LocationInfo.From(ElementSyntax(streamSyntax)) ?? location, subject, method.Name, elementType.ToDisplayString());
            }

            return element;
        }

        /// <summary>The <c>T</c> of <c>IAsyncEnumerable&lt;T&gt;</c> as written, qualified or not; the whole type when it is written otherwise (an alias).</summary>
        private static TypeSyntax? ElementSyntax(TypeSyntax? stream) => stream switch
        {
            GenericNameSyntax { TypeArgumentList.Arguments.Count: 1 } generic => generic.TypeArgumentList.Arguments[0],
            QualifiedNameSyntax qualified => ElementSyntax(qualified.Right),
            AliasQualifiedNameSyntax alias => ElementSyntax(alias.Name),
            _ => stream,
        };

        private static string? RefKindText(IParameterSymbol parameter) => parameter.RefKind switch
        {
            RefKind.Ref => "ref",
            RefKind.Out => "out",
            RefKind.In => "in",
            RefKind.RefReadOnlyParameter => "ref readonly",
            _ => parameter.IsParams ? "params" : null,
        };

        /// <summary>A member's name in source, or the interface when the member comes from a referenced assembly.</summary>
        private LocationInfo? MemberLocation(ISymbol member) =>
            LocationInfo.From(member.Locations.FirstOrDefault(l => l.IsInSource)) ?? _interfaceLocation;

        private LocationInfo? MethodLocation(IMethodSymbol method) => MemberLocation(method);

        private void Report(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] args)
        {
            _diagnostics.Add(DiagnosticInfo.Create(descriptor, location, args));
            _hasErrors |= descriptor.DefaultSeverity == DiagnosticSeverity.Error;
        }
    }

    /// <summary>Null when generated code in another file of the assembly can name <paramref name="type"/>; else why not.</summary>
    private static string? InaccessibilityReason(INamedTypeSymbol type)
    {
        if (type.IsFileLocal)
        {
            return "file-local";
        }

        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            switch (current.DeclaredAccessibility)
            {
                case Accessibility.Public:
                case Accessibility.Internal:
                case Accessibility.ProtectedOrInternal:
                    break;
                default:
                    string accessibility = SyntaxFacts.GetText(current.DeclaredAccessibility);
                    return SymbolEqualityComparer.Default.Equals(current, type)
                        ? accessibility
                        : "nested in the " + accessibility + " type '" + current.ToDisplayString() + "'";
            }
        }

        return null;
    }

    private static string HintName(INamedTypeSymbol type)
    {
        var parts = new List<string>();
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            parts.Add(current.Name);
        }

        if (!type.ContainingNamespace.IsGlobalNamespace)
        {
            parts.Add(type.ContainingNamespace.ToDisplayString());
        }

        parts.Reverse();
        return string.Join(".", parts) + ".Rpal.g.cs";
    }

    /// <summary>
    /// The file-local class that holds the generated types: the interface's name without its
    /// 'I' prefix (after those of its containing types), then "Rpal", then a number if a type
    /// of that name exists in the namespace: a file-local type would hide it in the generated file.
    /// </summary>
    private static string ContainerName(INamedTypeSymbol type)
    {
        string name = type.Name.Length > 1 && type.Name[0] == 'I' && char.IsUpper(type.Name[1]) ? type.Name.Substring(1) : type.Name;
        for (INamedTypeSymbol? current = type.ContainingType; current is not null; current = current.ContainingType)
        {
            name = current.Name + name;
        }

        string candidate = name + "Rpal";
        for (int i = 2; !type.ContainingNamespace.GetTypeMembers(candidate).IsEmpty; i++)
        {
            candidate = name + "Rpal" + i;
        }

        return candidate;
    }

    private static string EscapeIdentifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
}
