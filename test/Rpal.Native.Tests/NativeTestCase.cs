using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Rpal.Native.Tests;

/// <summary>
/// One C test program in one build flavor: a <see cref="SkippableFactTestCase"/> (so
/// <see cref="Skip.If(bool, string)"/> reports a skip) displayed as <c>flavor/test name</c>.
/// </summary>
public sealed class NativeTestCase : SkippableFactTestCase
{
    /// <summary>Used by xunit's deserializer only.</summary>
    [Obsolete("Called by the de-serializer", error: true)]
    public NativeTestCase()
    {
    }

    /// <summary>Creates the test case for one data row (flavor, test name, program path).</summary>
    public NativeTestCase(
        IMessageSink diagnosticMessageSink,
        TestMethodDisplay defaultMethodDisplay,
        TestMethodDisplayOptions defaultMethodDisplayOptions,
        ITestMethod testMethod,
        object[] testMethodArguments)
        : base(
            [typeof(Xunit.SkipException).FullName!],
            diagnosticMessageSink,
            defaultMethodDisplay,
            defaultMethodDisplayOptions,
            testMethod,
            testMethodArguments)
    {
    }

    /// <inheritdoc/>
    protected override string GetDisplayName(IAttributeInfo factAttribute, string displayName)
    {
        return TestMethodArguments is [string flavor, string name, ..]
            ? $"{flavor}/{name}"
            : base.GetDisplayName(factAttribute, displayName);
    }
}
