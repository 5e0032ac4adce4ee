using Xunit;
using Xunit.Sdk;

namespace Rpal.Native.Tests;

/// <summary>
/// A <see cref="SkippableTheoryAttribute"/> whose data rows are (flavor, test name, program path)
/// and whose test cases are displayed as <c>flavor/test name</c>, e.g. <c>release/test_rings</c>.
/// </summary>
[XunitTestCaseDiscoverer("Rpal.Native.Tests.NativeTestCaseDiscoverer", "Rpal.Native.Tests")]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class NativeTestTheoryAttribute : SkippableTheoryAttribute
{
}
