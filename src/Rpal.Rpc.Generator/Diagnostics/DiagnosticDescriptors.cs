using Microsoft.CodeAnalysis;

namespace Rpal.Rpc.Generator.Diagnostics;

/// <summary>
/// Every diagnostic the generator reports. Ids are stable (RPAL1xxx): never reuse or renumber
/// one; a new rule takes the next number and a line in AnalyzerReleases.Unshipped.md.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Rpal";

    /// <summary>The types a parameter, a result or a stream's element may have, named in RPAL1008, RPAL1009 and RPAL1019.</summary>
    private const string SupportedTypes =
        "unmanaged types (primitives, enums, unmanaged structs), string, byte[], ReadOnlyMemory<byte>, "
        + "arrays of unmanaged types and Google.Protobuf messages";

    /// <summary>The types a parameter may have, named in RPAL1008: those of a result, and a byte span.</summary>
    private const string SupportedParameterTypes =
        "unmanaged types (primitives, enums, unmanaged structs), string, byte[], ReadOnlyMemory<byte>, "
        + "ReadOnlySpan<byte>, arrays of unmanaged types and Google.Protobuf messages";

    public static readonly DiagnosticDescriptor ServiceMustBeInterface = new(
        id: "RPAL1001",
        title: "[RpalService] applies to interfaces only",
        messageFormat: "'{0}' is not an interface: [RpalService] marks the interface of a service",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidServiceName = new(
        id: "RPAL1002",
        title: "Invalid service name",
        messageFormat: "'{0}' is not a valid service name: use 1 to 64 characters from [A-Za-z0-9._-], not starting with a dot",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor GenericServiceInterface = new(
        id: "RPAL1003",
        title: "Service interfaces cannot be generic",
        messageFormat: "The service interface '{0}' has type parameters: a service's methods must have one wire shape",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InaccessibleServiceInterface = new(
        id: "RPAL1004",
        title: "Service interface must be visible to its whole assembly",
        messageFormat: "The service interface '{0}' is {1}: the generated client and dispatcher need it public or internal, at namespace level or nested in public or internal types",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedMember = new(
        id: "RPAL1005",
        title: "Service interfaces declare methods only",
        messageFormat: "'{0}' is {1}: a service interface may declare only methods (give it a body to keep it local, or turn it into a method)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor GenericMethod = new(
        id: "RPAL1006",
        title: "Service methods cannot be generic",
        messageFormat: "The method '{0}' has type parameters: a service method must have one wire shape",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ByReferenceParameter = new(
        id: "RPAL1007",
        title: "Service method parameters are passed by value",
        messageFormat: "The parameter '{0}' of '{1}' is declared '{2}': a call to another process passes its arguments by value (no ref, out, in, ref readonly or params)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedParameterType = new(
        id: "RPAL1008",
        title: "Unsupported parameter type",
        messageFormat: "The parameter '{0}' of '{1}' has the type '{2}', which Rpal cannot send; supported: " + SupportedParameterTypes + ", one IAsyncEnumerable<T> of those but ReadOnlySpan<byte>, and a last CancellationToken",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedReturnType = new(
        id: "RPAL1009",
        title: "Unsupported return type",
        messageFormat: "The method '{0}' returns '{1}', which Rpal cannot send back; supported: void, Task, ValueTask, or T, Task<T>, ValueTask<T> or IAsyncEnumerable<T> where T is one of " + SupportedTypes,
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor CancellationTokenNotLast = new(
        id: "RPAL1010",
        title: "A CancellationToken must be the last parameter",
        messageFormat: "The CancellationToken '{0}' of '{1}' is not its last parameter: a service method may take one CancellationToken, last",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MethodIdCollision = new(
        id: "RPAL1011",
        title: "Two methods of a service have the same id",
        messageFormat: "The method '{0}' has the same wire id (0x{1}) as '{2}' in the service '{3}': rename one of them",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor StaticAbstractMember = new(
        id: "RPAL1012",
        title: "Service interfaces cannot have static abstract or virtual members",
        messageFormat: "'{0}' is a static abstract or static virtual member: the interface could not be used as a type argument, which the generated descriptor needs",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DuplicateServiceName = new(
        id: "RPAL1013",
        title: "Two services have the same name",
        messageFormat: "The service name '{0}' is also given to '{1}': a client could reach the wrong service",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor LanguageVersionTooLow = new(
        id: "RPAL1014",
        title: "Rpal's generated code needs C# 11 or later",
        messageFormat: "The service '{0}' cannot be generated with C# {1}: the generated code uses file-local types and static abstract interface members (C# 11)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor SpanParameterNeedsCSharp13 = new(
        id: "RPAL1015",
        title: "A ReadOnlySpan<byte> parameter needs C# 13 or later",
        messageFormat: "The parameter '{0}' of '{1}' is a ReadOnlySpan<byte>, which needs C# 13 (its request is a ref struct implementing an interface), not C# {2}: raise LangVersion or take ReadOnlyMemory<byte>",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor SeveralStreamParameters = new(
        id: "RPAL1016",
        title: "A service method takes at most one stream",
        messageFormat: "The parameter '{0}' of '{1}' is a second IAsyncEnumerable<T>: a call carries at most one stream from its caller",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor StreamParameterNeedsAsyncReturn = new(
        id: "RPAL1017",
        title: "A method that takes a stream returns a task or a stream",
        messageFormat: "The method '{0}' takes the stream '{1}' but returns '{2}': a method that reads a stream from its caller cannot answer before the stream ends, so it returns Task, ValueTask, Task<T>, ValueTask<T> or IAsyncEnumerable<T>",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor SpanParameterInStreamingMethod = new(
        id: "RPAL1018",
        title: "A streaming method cannot take a ReadOnlySpan<byte>",
        messageFormat: "The parameter '{0}' of the streaming method '{1}' is a ReadOnlySpan<byte>, but the request of a streaming call outlives its call site: take ReadOnlyMemory<byte>",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedStreamElementType = new(
        id: "RPAL1019",
        title: "Unsupported stream element type",
        messageFormat: "{0} of '{1}' is a stream of '{2}', which Rpal cannot send; a stream's elements may be " + SupportedTypes,
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor StreamInTask = new(
        id: "RPAL1020",
        title: "A stream is returned as it is, not in a task",
        messageFormat: "The method '{0}' returns '{1}', a task of a stream: return the IAsyncEnumerable<T> itself (the call starts when the caller enumerates it)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NullableStream = new(
        id: "RPAL1021",
        title: "A stream cannot be nullable",
        messageFormat: "{0} of '{1}' is declared '{2}': a stream is never null (an empty one sends no element); remove the '?'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);
}
