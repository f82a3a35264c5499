using Xunit.Abstractions;
using Xunit.Sdk;

namespace Tcm.Features.Runner.XunitAdapter;

/// <summary>
/// Yields one <see cref="ScenarioTestCase"/> per scenario and per Examples row of every .feature file under the test
/// assembly's folder, and one failing test case per file that does not parse (so a broken file fails the run loudly).
/// </summary>
internal sealed class FeatureTestCaseDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var display = discoveryOptions.MethodDisplayOrDefault();
        var displayOptions = discoveryOptions.MethodDisplayOptionsOrDefault();
        var catalog = FeatureCatalog.For(ScenarioTestCase.FeatureRoot(testMethod));
        if (catalog.Files.Count == 0)
        {
            diagnosticMessageSink.OnMessage(new DiagnosticMessage($"No .feature files under {catalog.Root}."));
        }

        foreach (var file in catalog.Files)
        {
            if (file.Feature is null)
            {
                yield return ScenarioTestCase.ForBrokenFile(diagnosticMessageSink, display, displayOptions, testMethod, file.Uri, file.Error!);
                continue;
            }

            foreach (var scenario in file.Feature.Scenarios)
            {
                yield return new ScenarioTestCase(diagnosticMessageSink, display, displayOptions, testMethod, scenario);
            }
        }
    }
}
