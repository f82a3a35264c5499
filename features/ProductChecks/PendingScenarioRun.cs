using System.Collections.Specialized;
using System.Globalization;
using Io.Cucumber.Messages.Types;
using Reqnroll;
using Tcm.Features.Drivers;
using Xunit.Abstractions;

namespace Tcm.Features.ProductChecks;

/// <summary>
/// Runs scenarios that Reqnroll's generated tests skip (<c>@ignore</c>) as if they were not ignored, through Reqnroll's
/// <see cref="ITestRunner"/> the way the generated code drives it: one feature, then each scenario's steps, hooks included.
/// </summary>
internal static class PendingScenarioRun
{
    /// <summary>Runs <paramref name="scenarios"/> (all of one feature file) and returns one line for each that did not stop at a pending step.</summary>
    public static async Task<IReadOnlyList<string>> RunAsWrittenAsync(string file, IReadOnlyList<ProductScenario> scenarios, ITestOutputHelper output)
    {
        var feature = scenarios[0].Feature;
        var featureTags = feature.Tags.Select(t => t.Name.TrimStart('@')).ToArray();
        // No Cucumber messages for this feature: the report formatters leave these runs out.
        var featureInfo = new FeatureInfo(
            CultureInfo.GetCultureInfo("en-US"), Path.GetDirectoryName(file) ?? "", feature.Name, feature.Description, ProgrammingLanguage.CSharp, featureTags);
        var problems = new List<string>();
        var runner = TestRunnerManager.GetTestRunnerForAssembly(typeof(LabDriver).Assembly, featureHint: featureInfo);
        try
        {
            if (runner.FeatureContext is not null && !runner.FeatureContext.FeatureInfo.Equals(featureInfo))
            {
                await runner.OnFeatureEndAsync();
            }

            if (runner.FeatureContext is null)
            {
                await runner.OnFeatureStartAsync(featureInfo);
            }

            foreach (var scenario in scenarios)
            {
                var (status, error) = await RunAsync(runner, scenario, featureTags, output);
                if (status != ScenarioExecutionStatus.StepDefinitionPending)
                {
                    problems.Add($"{scenario.DisplayName}: {status}{(error is null ? "" : " (" + error.Message + ")")}");
                }
            }

            await runner.OnFeatureEndAsync();
        }
        finally
        {
            TestRunnerManager.ReleaseTestRunner(runner);
        }

        return problems;
    }

    private static async Task<(ScenarioExecutionStatus Status, System.Exception? Error)> RunAsync(ITestRunner runner, ProductScenario scenario, string[] featureTags, ITestOutputHelper output)
    {
        var tags = scenario.Pickle.Tags.Select(t => t.Name.TrimStart('@')).Where(t => t != "ignore" && !featureTags.Contains(t)).ToArray();
        runner.OnScenarioInitialize(new ScenarioInfo(scenario.Pickle.Name, scenario.Description, tags, new OrderedDictionary(), featureTags), null);
        runner.ScenarioContext.ScenarioContainer.RegisterInstanceAs(output);
        try
        {
            await runner.OnScenarioStartAsync();
            foreach (var step in scenario.Pickle.Steps)
            {
                var docString = step.Argument?.DocString?.Content;
                var table = Table(step.Argument?.DataTable);
                await (step.Type switch
                {
                    PickleStepType.CONTEXT => runner.GivenAsync(step.Text, docString, table, "Given "),
                    PickleStepType.ACTION => runner.WhenAsync(step.Text, docString, table, "When "),
                    _ => runner.ThenAsync(step.Text, docString, table, "Then "),
                });
            }

            return (runner.ScenarioContext.ScenarioExecutionStatus, runner.ScenarioContext.TestError);
        }
        finally
        {
            await runner.OnScenarioEndAsync();
        }
    }

    private static Table? Table(PickleTable? table)
    {
        if (table is null || table.Rows.Count == 0)
        {
            return null;
        }

        var result = new Table([.. table.Rows[0].Cells.Select(c => c.Value)]);
        foreach (var row in table.Rows.Skip(1))
        {
            result.AddRow([.. row.Cells.Select(c => c.Value)]);
        }

        return result;
    }
}
