using Tcm.Features.Runner.XunitAdapter;
using Xunit;

namespace Tcm.Features;

/// <summary>
/// The xUnit entry point of the Gherkin runner: this one method stands for every scenario (and Examples row) of every
/// .feature file in the project; <see cref="FeatureTestsAttribute"/> makes xUnit discover one test case for each.
/// Scenarios run one at a time, feature by feature, in file order.
/// </summary>
[TestCaseOrderer(ScenarioOrderer.TypeName, ScenarioOrderer.AssemblyName)]
public sealed class FeatureFiles : IClassFixture<FeatureRunFixture>
{
    /// <summary>Never called: the scenario test cases run through <see cref="Runner.FeatureRunner"/>.</summary>
    [FeatureTests]
    public void Scenario()
    {
    }
}
