using System.Reflection;
using System.Text.RegularExpressions;
using FluentAssertions;
using Io.Cucumber.Messages.Types;
using Reqnroll;
using Reqnroll.Bindings;
using Tcm.Features.Drivers;
using Xunit;
using Xunit.Abstractions;

namespace Tcm.Features.ProductChecks;

/// <summary>
/// Keeps the product features honest while some of their capabilities are still being built. A scenario that needs a
/// missing capability is tagged <c>@pending-capability @ignore</c> (Reqnroll reports it skipped, so <c>dotnet test features</c>
/// stays green), says in its description what it waits for, and still has every step bound: when the capability lands, a
/// developer removes both tags and the scenario runs as written. No product scenario is ignored for any other reason.
/// </summary>
public sealed class PendingScenarioTests(ITestOutputHelper output)
{
    /// <summary>
    /// A pending mark is a claim that the lab or the product still lacks something. Each scenario tagged
    /// <c>@pending-capability</c> is run as written (its <c>@ignore</c> set aside) through Reqnroll's own test runner, with the
    /// features' bindings and hooks and a lab like theirs: it must stop at a step that reports the capability missing
    /// (pending). One that passes has its capability and must lose the mark; one that fails is a broken scenario or a product
    /// bug, not a pending one.
    /// </summary>
    [Fact]
    public async Task Scenarios_waiting_for_a_capability_really_stop_at_a_missing_one()
    {
        var problems = new List<string>();
        foreach (var feature in ProductScenarios.All().Where(s => s.HasTag("pending-capability")).GroupBy(s => s.File))
        {
            problems.AddRange(await PendingScenarioRun.RunAsWrittenAsync(feature.Key, [.. feature], output));
        }

        problems.Should().BeEmpty("a scenario marked @pending-capability must stop at a missing capability (remove the mark once it passes)");
    }

    /// <summary>
    /// Reqnroll only finds an undefined or ambiguous step in a scenario it runs; an ignored scenario is never run, so this
    /// checks every product step (ignored scenarios' included) against the bindings, as Reqnroll matches them: the step's
    /// kind (And / But take the one before), then the whole text against each definition's regular expression.
    /// </summary>
    [Fact]
    public void Every_product_step_is_defined_once_even_in_scenarios_waiting_for_a_capability()
    {
        var definitions = StepDefinitions();
        definitions.Should().NotBeEmpty();
        var problems = ProductScenarios.All()
            .SelectMany(s => s.Pickle.Steps.Select(step => (Scenario: s, Step: step, Matches: definitions.Where(d => d.Matches(step)).ToArray())))
            .Where(x => x.Matches.Length != 1)
            .Select(x => $"{x.Scenario.File}: {x.Step.Type} {x.Step.Text} -> " +
                (x.Matches.Length == 0 ? "undefined" : "ambiguous: " + string.Join(", ", x.Matches.Select(m => m.Name))))
            .Distinct()
            .ToArray();
        problems.Should().BeEmpty("every step of a product feature must match exactly one step definition");
    }

    /// <summary>
    /// Holds for any number of pending scenarios, none included (every capability built so far has landed): each one is skipped
    /// and says what it waits for, and no scenario still says it waits for a capability once its mark is gone.
    /// </summary>
    [Fact]
    public void Scenarios_waiting_for_a_capability_are_skipped_and_say_what_they_wait_for()
    {
        var scenarios = ProductScenarios.All();
        scenarios.Should().NotBeEmpty("the product features must be found, or finding no pending scenario among them proves nothing");
        foreach (var scenario in scenarios.Where(s => s.HasTag("pending-capability")))
        {
            scenario.HasTag("ignore").Should().BeTrue($"{scenario.DisplayName} waits for a capability: tag it @ignore too, so the run stays green");
            scenario.Description.Should().Contain("Pending capability:", $"{scenario.DisplayName} must say what it waits for");
        }

        scenarios.Where(s => !s.HasTag("pending-capability") && s.Description.Contains("Pending capability:", StringComparison.Ordinal))
            .Select(s => s.DisplayName)
            .Should().BeEmpty("a scenario that runs must not say it waits for a capability (remove the \"Pending capability:\" paragraph with the mark)");
    }

    [Fact]
    public void No_product_scenario_is_ignored_except_for_a_missing_capability()
    {
        ProductScenarios.All().Where(s => s.HasTag("ignore") && !s.HasTag("pending-capability")).Select(s => s.DisplayName)
            .Should().BeEmpty("a product scenario is skipped only while it waits for a capability (@pending-capability)");
    }

    [Fact]
    public void Every_product_feature_carries_a_product_tag_the_lab_hooks_know()
    {
        // The lab hooks (reset after each scenario, stop after the feature) are scoped to these tags: a feature without one
        // would leave its agents running and its lab undisposed.
        var files = Directory.EnumerateFiles(AppContext.BaseDirectory, "*.feature", SearchOption.AllDirectories).ToArray();
        files.Should().NotBeEmpty();
        ProductScenarios.All().Select(s => s.File).Distinct().Should().HaveSameCount(files, "every feature file is a product feature with one of the tags " + string.Join(", ", ProductScenarios.Tags));
    }

    private static IReadOnlyList<Definition> StepDefinitions() =>
    [
        .. from type in typeof(LabDriver).Assembly.GetTypes()
           where type.GetCustomAttribute<BindingAttribute>() is not null
           from method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
           from attribute in method.GetCustomAttributes<StepDefinitionBaseAttribute>()
           select new Definition($"{type.Name}.{method.Name}", attribute.Types, new Regex(attribute.Expression, RegexOptions.CultureInvariant)),
    ];

    private sealed record Definition(string Name, StepDefinitionType[] Types, Regex Expression)
    {
        public bool Matches(PickleStep step) => Types.Contains(KindOf(step)) && Expression.Match(step.Text) is { Success: true } m && m.Length == step.Text.Length;

        private static StepDefinitionType KindOf(PickleStep step) => step.Type switch
        {
            PickleStepType.CONTEXT => StepDefinitionType.Given,
            PickleStepType.ACTION => StepDefinitionType.When,
            PickleStepType.OUTCOME => StepDefinitionType.Then,
            _ => throw new InvalidOperationException($"step '{step.Text}' has no kind (a step must start with Given, When or Then)"),
        };
    }
}
