using FluentAssertions;
using Tcm.Features.Drivers;
using Tcm.Features.Runner;
using Tcm.Features.Runner.XunitAdapter;
using Xunit;
using Xunit.Abstractions;

namespace Tcm.Features.ProductChecks;

/// <summary>
/// Keeps the product features honest while some of their capabilities are still being built. A scenario that needs a
/// missing capability is tagged <c>@pending-capability @ignore</c> (reported skipped, so <c>dotnet test features</c> stays
/// green), says in its description what it waits for, and still has every step defined: when the capability lands, a
/// developer removes <c>@ignore</c> and the scenario runs as written. No product scenario is ignored for any other reason.
/// </summary>
public sealed class PendingScenarioTests(ITestOutputHelper output)
{
    private static readonly string[] s_productTags = ["fallback", "delivery", "routing", "downloads"];

    /// <summary>
    /// A pending mark is a claim that the lab or the product still lacks something. Each scenario tagged
    /// <c>@pending-capability</c> is run as written (its <c>@ignore</c> set aside) in a lab like the features' own: it must
    /// stop at a step that reports the capability missing. One that passes has its capability and must lose the mark; one
    /// that fails is a broken scenario or a product bug, not a pending one.
    /// </summary>
    [Fact]
    public async Task Scenarios_waiting_for_a_capability_really_stop_at_a_missing_one()
    {
        var registry = BindingRegistry.FromAssembly(typeof(LabDriver).Assembly);
        var problems = new List<string>();
        foreach (var feature in ProductScenarios().Where(s => s.HasTag("pending-capability")).GroupBy(s => s.Feature))
        {
            var context = new FeatureContext(feature.Key);
            await FeatureRunner.RunBeforeFeatureAsync(context, registry, output);
            try
            {
                foreach (var scenario in feature)
                {
                    var asWritten = scenario with { Tags = [.. scenario.Tags.Where(t => t != "ignore")] };
                    var result = await FeatureRunner.RunScenarioAsync(asWritten, registry, output, context);
                    if (result.Status != ExecutionStatus.Pending)
                    {
                        problems.Add($"{scenario.DisplayName}: {result.Status}{(result.FailureMessage is { } m ? " (" + m + ")" : "")}");
                    }
                }
            }
            finally
            {
                await FeatureRunner.RunAfterFeatureAsync(context, registry, output);
            }
        }

        problems.Should().BeEmpty("a scenario marked @pending-capability must stop at a missing capability (remove the mark once it passes)");
    }

    [Fact]
    public void Every_product_step_is_defined_once_even_in_scenarios_waiting_for_a_capability()
    {
        var registry = BindingRegistry.FromAssembly(typeof(LabDriver).Assembly);
        registry.Errors.Should().BeEmpty();
        var problems = ProductScenarios()
            .SelectMany(s => s.Steps.Select(step => (Scenario: s, Step: step, Match: registry.Match(step))))
            .Where(x => x.Match is not StepMatch.Found)
            .Select(x => $"{x.Scenario.Feature.Uri}:{x.Step.Line} {x.Step} -> {x.Match.GetType().Name}")
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
        var scenarios = ProductScenarios().ToArray();
        scenarios.Should().NotBeEmpty("the product features must be found, or finding no pending scenario among them proves nothing");
        foreach (var scenario in scenarios.Where(s => s.HasTag("pending-capability")))
        {
            scenario.HasTag("ignore").Should().BeTrue($"{scenario.DisplayName} waits for a capability: tag it @ignore too, so the run stays green");
            (scenario.Description + scenario.Feature.Description).Should().Contain("Pending capability:", $"{scenario.DisplayName} must say what it waits for");
        }

        scenarios.Where(s => !s.HasTag("pending-capability") && (s.Description + s.Feature.Description).Contains("Pending capability:", StringComparison.Ordinal))
            .Select(s => s.DisplayName)
            .Should().BeEmpty("a scenario that runs must not say it waits for a capability (remove the \"Pending capability:\" paragraph with the mark)");
    }

    [Fact]
    public void No_product_scenario_is_ignored_except_for_a_missing_capability()
    {
        ProductScenarios().Where(s => s.HasTag("ignore") && !s.HasTag("pending-capability")).Select(s => s.DisplayName)
            .Should().BeEmpty("a product scenario is skipped only while it waits for a capability (@pending-capability)");
    }

    private static IEnumerable<ScenarioPickle> ProductScenarios() =>
        FeatureCatalog.For(AppContext.BaseDirectory).Files
            .Select(f => f.Feature ?? throw new InvalidOperationException($"{f.Uri}: {f.Error}"))
            .SelectMany(f => f.Scenarios)
            .Where(s => s_productTags.Any(s.HasTag));
}
