using Xunit.Abstractions;
using Xunit.Sdk;

namespace Tcm.Features.Runner.XunitAdapter;

/// <summary>
/// Runs scenarios feature by feature, each feature's in file order (xUnit's default order is by hash), so a feature's
/// scenarios are contiguous and can share its <see cref="FeatureContext"/>; marks the last scheduled scenario of each
/// feature (after filtering), whose run then closes the feature with its [AfterFeature] hooks.
/// </summary>
internal sealed class ScenarioOrderer : ITestCaseOrderer
{
    public const string TypeName = "Tcm.Features.Runner.XunitAdapter.ScenarioOrderer";
    public const string AssemblyName = "Tcm.Features";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases)
        where TTestCase : ITestCase
    {
        var ordered = testCases
            .OrderBy(t => t is ScenarioTestCase s ? s.FeatureUri : "", StringComparer.Ordinal)
            .ThenBy(t => t is ScenarioTestCase s ? s.Position : (0, 0))
            .ThenBy(t => t.UniqueID, StringComparer.Ordinal)
            .ToList();
        var scenarios = ordered.OfType<ScenarioTestCase>().ToList();
        for (var i = 0; i < scenarios.Count; i++)
        {
            scenarios[i].IsLastInFeature = i == scenarios.Count - 1 || scenarios[i + 1].FeatureUri != scenarios[i].FeatureUri;
        }

        return ordered;
    }
}
