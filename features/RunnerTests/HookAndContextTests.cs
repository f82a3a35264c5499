using FluentAssertions;
using Tcm.Features.Runner;
using Xunit;

namespace Tcm.Features.RunnerTests;

/// <summary>Hooks (scenario and feature, tag-scoped, ordered, failing) and the per-scenario container.</summary>
public sealed class HookAndContextTests
{
    private sealed class SharedThing(FeatureContext feature) : IAsyncDisposable
    {
        public int Id { get; } = feature.Get<Journal>().Entries.Count;

        public ValueTask DisposeAsync()
        {
            feature.Get<Journal>().Add($"disposed thing");
            return ValueTask.CompletedTask;
        }
    }

    private sealed class OtherThing(SharedThing shared, FeatureContext feature) : IDisposable
    {
        public SharedThing Shared { get; } = shared;

        public void Dispose() => feature.Get<Journal>().Add("disposed other");
    }

    private sealed class FirstSteps(SharedThing shared, ScenarioContext scenario)
    {
        [Given("^the first binding stores its thing$")]
        public void Store() => scenario["thing"] = shared;

        [Given("^the scenario context is checked$")]
        public void Check() => scenario.FeatureContext.Get<Journal>().Add($"{scenario.ScenarioInfo.Title}|{string.Join(",", scenario.ScenarioInfo.Tags)}|{scenario.ScenarioInfo.Arguments.GetValueOrDefault("n")}");
    }

    private sealed class SecondSteps(OtherThing other, ScenarioContext scenario, FeatureContext feature)
    {
        [Then("^the second binding has the same thing$")]
        public void Same() => feature.Get<Journal>().Add(ReferenceEquals(scenario["thing"], other.Shared) ? "same" : "different");
    }

    private sealed class Hooks(FeatureContext feature)
    {
        [BeforeScenario]
        public void Always() => feature.Get<Journal>().Add("before:always");

        [BeforeScenario("lab", Order = 1)]
        public void LabFirst() => feature.Get<Journal>().Add("before:lab");

        [BeforeScenario("@other")]
        public void Other() => feature.Get<Journal>().Add("before:other");

        [AfterScenario("lab")]
        public void AfterLab(ScenarioContext scenario) => feature.Get<Journal>().Add($"after:lab:{scenario.ScenarioExecutionStatus}");

        [BeforeFeature]
        public static void StartFeature(FeatureContext context) => context.Get<Journal>().Add("before-feature:" + context.FeatureInfo.Title);

        [AfterFeature("lab")]
        public static async Task EndLabFeature(FeatureContext context)
        {
            await Task.Yield();
            context.Get<Journal>().Add("after-feature");
        }
    }

    private sealed class FailingBeforeHook(FeatureContext feature)
    {
        [BeforeScenario]
        public void Fail() => throw new InvalidOperationException("the lab did not start");

        [AfterScenario]
        public void After() => feature.Get<Journal>().Add("after ran");

        [Given("^a step$")]
        public void Step() => feature.Get<Journal>().Add("step ran");
    }

    private sealed class FailingFeatureHook
    {
        [BeforeFeature]
        public static void Fail() => throw new InvalidOperationException("no lab today");

        [Given("^a step$")]
        public void Step()
        {
        }
    }

    private sealed class LabResource(Journal journal) : IDisposable
    {
        public void Dispose() => journal.Add("lab disposed");
    }

    private sealed class BrokenBindings
    {
        [Given(@"^(\d+) and (\d+)$")]
        public void TooFewParameters(int a)
        {
        }

        [BeforeFeature]
        public void NotStatic()
        {
        }

        [Given("^a step$")]
        public void Step()
        {
        }
    }

    [Fact]
    public async Task BindingClasses_ShareOneContextInstancePerScenario_DisposedAfterIt()
    {
        var scenario = InMemory.Scenario("Feature: F\n  Scenario: S\n    Given the first binding stores its thing\n    Then the second binding has the same thing\n");
        var (context, journal) = InMemory.Context(scenario);

        var result = await FeatureRunner.RunScenarioAsync(scenario, BindingRegistry.FromTypes(typeof(FirstSteps), typeof(SecondSteps)), featureContext: context);

        result.Status.Should().Be(ExecutionStatus.Passed, result.FailureMessage);
        journal.Entries.Should().Equal("same", "disposed other", "disposed thing");
    }

    [Fact]
    public async Task ScenarioContext_CarriesTitleTagsAndExampleValues()
    {
        var feature = FeatureParser.Parse(
            "@f\nFeature: F\n  @s\n  Scenario Outline: Row <n>\n    Given the scenario context is checked\n  @e\n  Examples:\n    | n |\n    | 7 |\n");
        var (context, journal) = InMemory.Context(feature.Scenarios[0]);

        await FeatureRunner.RunScenarioAsync(feature.Scenarios[0], BindingRegistry.FromTypes(typeof(FirstSteps)), featureContext: context);

        journal.Entries.Should().Equal("Row 7|f,s,e|7", "disposed thing");
    }

    [Fact]
    public async Task ScenarioHooks_RunByTag_InOrder_AndAfterHooksSeeTheOutcome()
    {
        var feature = FeatureParser.Parse(
            "Feature: F\n  @lab\n  Scenario: Tagged\n    Given the scenario context is checked\n  Scenario: Untagged\n    Given the scenario context is checked\n");
        var registry = BindingRegistry.FromTypes(typeof(Hooks), typeof(FirstSteps));
        var (context, journal) = InMemory.Context(feature.Scenarios[0]);

        await FeatureRunner.RunScenarioAsync(feature.Scenarios[0], registry, featureContext: context);
        await FeatureRunner.RunScenarioAsync(feature.Scenarios[1], registry, featureContext: context);

        journal.Entries.Where(e => !e.StartsWith("disposed", StringComparison.Ordinal)).Should().Equal(
            "before:lab",
            "before:always",
            "Tagged|lab|",
            "after:lab:OK",
            "before:always",
            "Untagged||");
    }

    [Fact]
    public async Task FailingBeforeScenarioHook_FailsTheScenario_SkipsSteps_AndRunsAfterHooks()
    {
        var scenario = InMemory.Scenario("Feature: F\n  Scenario: S\n    Given a step\n");
        var (context, journal) = InMemory.Context(scenario);
        var output = new CapturedOutput();

        var result = await FeatureRunner.RunScenarioAsync(scenario, BindingRegistry.FromTypes(typeof(FailingBeforeHook)), output, context);

        result.Status.Should().Be(ExecutionStatus.Failed);
        result.FailureMessage.Should().Contain("[BeforeScenario] FailingBeforeHook.Fail failed: the lab did not start");
        result.Steps.Single().Status.Should().Be(ExecutionStatus.Skipped);
        result.BeforeHooks.Single().Status.Should().Be(ExecutionStatus.Failed);
        journal.Entries.Should().Equal("after ran");
        output.Text.Should().Contain("  ✗ [BeforeScenario] FailingBeforeHook.Fail (");
    }

    [Fact]
    public async Task Feature_SharesOneFeatureContext_RunsFeatureHooksOnce_AndDisposesItsValues()
    {
        var feature = FeatureParser.Parse(
            "@lab\nFeature: Lab\n  Scenario: One\n    Given the scenario context is checked\n  Scenario: Two\n    Given the scenario context is checked\n");
        var context = new FeatureContext(feature.Info);
        var journal = new Journal();
        context.Set(journal);
        context.Set(new LabResource(journal));

        var result = await FeatureRunner.RunFeatureAsync(feature, BindingRegistry.FromTypes(typeof(Hooks), typeof(FirstSteps)), featureContext: context);

        result.Scenarios.Should().OnlyContain(s => s.Passed);
        journal.Entries.Where(e => !e.StartsWith("before:", StringComparison.Ordinal) && !e.StartsWith("after:", StringComparison.Ordinal))
            .Should().Equal("before-feature:Lab", "One|lab|", "disposed thing", "Two|lab|", "disposed thing", "after-feature", "lab disposed");
        context.Should().BeEmpty("the feature context is cleared once the feature ends");
    }

    [Fact]
    public async Task FailingBeforeFeatureHook_FailsEveryScenarioOfTheFeature()
    {
        var feature = FeatureParser.Parse("Feature: F\n  Scenario: One\n    Given a step\n  Scenario: Two\n    Given a step\n");

        var result = await FeatureRunner.RunFeatureAsync(feature, BindingRegistry.FromTypes(typeof(FailingFeatureHook)));

        result.BeforeFeature.Error!.Message.Should().Be("no lab today");
        result.Scenarios.Should().HaveCount(2).And.OnlyContain(s =>
            s.Status == ExecutionStatus.Failed && s.FailureMessage!.Contains("[BeforeFeature] hook of 'F' failed: no lab today"));
    }

    [Fact]
    public async Task BindingDefinitionErrors_FailEveryScenario_NamingTheMistakes()
    {
        var registry = BindingRegistry.FromTypes(typeof(BrokenBindings));
        var scenario = InMemory.Scenario("Feature: F\n  Scenario: S\n    Given a step\n");

        var result = await FeatureRunner.RunScenarioAsync(scenario, registry);

        registry.Errors.Should().HaveCount(2);
        result.Status.Should().Be(ExecutionStatus.Failed);
        result.FailureMessage.Should().Contain("TooFewParameters").And.Contain("2 capture group(s) but the method has 1 parameter(s)")
            .And.Contain("NotStatic").And.Contain("must be static");
    }
}
