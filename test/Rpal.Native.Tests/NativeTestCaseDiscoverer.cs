using Xunit.Abstractions;
using Xunit.Sdk;

namespace Rpal.Native.Tests;

/// <summary>
/// Discovers one <see cref="NativeTestCase"/> per data row of a <see cref="NativeTestTheoryAttribute"/>
/// theory. The theory plumbing (MemberData, pre-enumeration) is xunit's own.
/// </summary>
public sealed class NativeTestCaseDiscoverer(IMessageSink diagnosticMessageSink)
    : TheoryDiscoverer(diagnosticMessageSink)
{
    /// <inheritdoc/>
    protected override IEnumerable<IXunitTestCase> CreateTestCasesForDataRow(
        ITestFrameworkDiscoveryOptions discoveryOptions,
        ITestMethod testMethod,
        IAttributeInfo theoryAttribute,
        object[] dataRow)
    {
        return
        [
            new NativeTestCase(
                DiagnosticMessageSink,
                discoveryOptions.MethodDisplayOrDefault(),
                discoveryOptions.MethodDisplayOptionsOrDefault(),
                testMethod,
                dataRow),
        ];
    }
}
