using Xunit;
using Xunit.Sdk;

namespace Tcm.Features.Runner.XunitAdapter;

/// <summary>
/// Put on one empty method of one public class: xUnit then asks <see cref="FeatureTestCaseDiscoverer"/> for that
/// method's test cases, and gets one per scenario and per Examples row of every .feature file in the output folder.
/// </summary>
[XunitTestCaseDiscoverer("Tcm.Features.Runner.XunitAdapter.FeatureTestCaseDiscoverer", "Tcm.Features")]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class FeatureTestsAttribute : FactAttribute;
