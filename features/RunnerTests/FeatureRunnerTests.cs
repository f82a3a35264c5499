using FluentAssertions;
using Tcm.Features.Runner;
using Xunit;

namespace Tcm.Features.RunnerTests;

/// <summary>The engine on in-memory feature text: outcomes, skipping, hooks, injection, output.</summary>
public sealed class FeatureRunnerTests
{
    // Test bindings carry no [Binding] attribute, so the real run's registry does not see them.
    private sealed class Steps(FeatureContext feature)
    {
        private Journal Journal => feature.Get<Journal>();

        [Given("^a step that passes$")]
        public void Passes() => Journal.Add("passes");

        [Given("^an async step$")]
        public async Task AsyncStep()
        {
            await Task.Delay(1);
            Journal.Add("async");
        }

        [When("^a step that throws$")]
        public void Throws() => throw new InvalidOperationException("the binding is broken");

        [Then("^a step that is pending$")]
        public void Pending() => throw new PendingStepException();

        [StepDefinition("^a later step$")]
        public ValueTask Later()
        {
            Journal.Add("later");
            return ValueTask.CompletedTask;
        }

        [Then("^only a Then step$")]
        public void OnlyThen() => Journal.Add("then");

        [Given("^the numbers:$")]
        public void Numbers(DataTable table) => Journal.Add("table:" + string.Join(",", table.Rows.Select(r => r["n"])));

        [Given("^the text:$")]
        public void Text(string text) => Journal.Add("doc:" + text);

        [Given(@"^(\d+) agents in the (office|internet) for (\S+)$")]
        public void Typed(int count, Location location, TimeSpan duration) => Journal.Add($"{count}|{location}|{duration}");

        [AfterScenario]
        public void AfterScenario() => Journal.Add("after-scenario");
    }

    private enum Location
    {
        Office,
        Internet,
    }

    private sealed class Competing
    {
        [Given("^a step that (.*)$")]
        public void AnyStep(string what)
        {
        }
    }

    private static readonly BindingRegistry s_registry = BindingRegistry.FromTypes(typeof(Steps));

    private static async Task<(ScenarioResult Result, Journal Journal, CapturedOutput Output)> Run(string steps, BindingRegistry? registry = null)
    {
        var scenario = InMemory.Scenario("Feature: Engine\n\n  Scenario: Under test\n" + steps);
        var (context, journal) = InMemory.Context(scenario);
        var output = new CapturedOutput();
        var result = await FeatureRunner.RunScenarioAsync(scenario, registry ?? s_registry, output, context);
        return (result, journal, output);
    }

    [Fact]
    public async Task AllStepsPass_ScenarioPasses_AndAsyncStepsAreAwaited()
    {
        var (result, journal, _) = await Run("    Given a step that passes\n    And an async step\n    Then a later step\n");

        result.Status.Should().Be(ExecutionStatus.Passed);
        result.Passed.Should().BeTrue();
        result.FailureMessage.Should().BeNull();
        journal.Entries.Should().Equal("passes", "async", "later", "after-scenario");
    }

    [Fact]
    public async Task UndefinedStep_FailsScenario_NamingTheStep_AndGivingAPasteableSnippet()
    {
        var (result, _, output) = await Run("    Given the agent is in the office\n    Then a later step\n");

        result.Status.Should().Be(ExecutionStatus.Undefined);
        result.Passed.Should().BeFalse();
        result.Steps.Select(s => s.Status).Should().Equal(ExecutionStatus.Undefined, ExecutionStatus.Skipped);
        result.FailureMessage.Should().Contain("Undefined step: Given the agent is in the office (line 4)")
            .And.Contain("[Given(@\"^the agent is in the office$\")]")
            .And.Contain("public void GivenTheAgentIsInTheOffice()")
            .And.Contain("throw new PendingStepException();");
        output.Text.Should().Contain("  ? Given the agent is in the office (undefined)").And.Contain("GivenTheAgentIsInTheOffice");
    }

    [Fact]
    public async Task UndefinedSteps_AfterAFailure_AreStillReportedUndefined()
    {
        var (result, _, _) = await Run("    When a step that throws\n    Then nobody wrote this step\n    And a later step\n");

        result.Status.Should().Be(ExecutionStatus.Failed);
        result.Steps.Select(s => s.Status).Should().Equal(ExecutionStatus.Failed, ExecutionStatus.Undefined, ExecutionStatus.Skipped);
        result.FailureMessage.Should().Contain("public void ThenNobodyWroteThisStep()");
    }

    [Fact]
    public async Task AmbiguousStep_FailsScenario_NamingEveryCandidate()
    {
        var registry = BindingRegistry.FromTypes(typeof(Steps), typeof(Competing));

        var (result, journal, output) = await Run("    Given a step that passes\n    Then a later step\n", registry);

        result.Status.Should().Be(ExecutionStatus.Ambiguous);
        result.Passed.Should().BeFalse();
        result.Steps[0].Candidates.Should().HaveCount(2);
        result.FailureMessage.Should().Contain("Ambiguous step: Given a step that passes")
            .And.Contain($"{typeof(Steps).FullName}.{nameof(Steps.Passes)}")
            .And.Contain($"{typeof(Competing).FullName}.{nameof(Competing.AnyStep)}");
        result.Steps[1].Status.Should().Be(ExecutionStatus.Skipped);
        journal.Entries.Should().NotContain("passes");
        output.Text.Should().Contain("  ✗ Given a step that passes (ambiguous)");
    }

    [Fact]
    public async Task PendingStep_IsReportedPending_NeverPassed()
    {
        var (result, journal, output) = await Run("    Given a step that passes\n    Then a step that is pending\n    And a later step\n");

        result.Status.Should().Be(ExecutionStatus.Pending);
        result.Passed.Should().BeFalse();
        result.Steps.Select(s => s.Status).Should().Equal(ExecutionStatus.Passed, ExecutionStatus.Pending, ExecutionStatus.Skipped);
        result.FailureMessage.Should().Contain("Pending step: Then a step that is pending");
        journal.Entries.Should().NotContain("later");
        output.Text.Should().Contain("  ! Then a step that is pending (pending)");
    }

    [Fact]
    public async Task ThrowingStep_FailsScenario_NamingTheStep_SkipsLaterSteps_AndStillRunsAfterHooks()
    {
        var (result, journal, output) = await Run("    Given a step that passes\n    When a step that throws\n    Then a later step\n");

        result.Status.Should().Be(ExecutionStatus.Failed);
        result.Steps.Select(s => s.Status).Should().Equal(ExecutionStatus.Passed, ExecutionStatus.Failed, ExecutionStatus.Skipped);
        result.FailureMessage.Should().Contain("Step failed: When a step that throws (line 5)").And.Contain("the binding is broken");
        result.Error.Should().BeOfType<InvalidOperationException>();
        journal.Entries.Should().Equal("passes", "after-scenario");
        output.Lines.Should().Contain(l => l.StartsWith("  ✓ Given a step that passes (", StringComparison.Ordinal))
            .And.Contain(l => l.StartsWith("  ✗ When a step that throws (", StringComparison.Ordinal))
            .And.Contain("      the binding is broken")
            .And.Contain("  - Then a later step (skipped)");
    }

    [Fact]
    public async Task AndAndBut_ContinueThePreviousKeyword()
    {
        var (passing, journal, _) = await Run("    Given a step that passes\n    Then a later step\n    But only a Then step\n");
        passing.Status.Should().Be(ExecutionStatus.Passed);
        journal.Entries.Should().Contain("then");

        var (undefined, _, _) = await Run("    When a later step\n    And only a Then step\n");
        undefined.Status.Should().Be(ExecutionStatus.Undefined);
        undefined.FailureMessage.Should().Contain("[When(@\"^only a Then step$\")]");
    }

    [Fact]
    public async Task TableAndDocString_ArriveAsTheLastParameter()
    {
        var (result, journal, _) = await Run(
            "    Given the numbers:\n      | n |\n      | 1 |\n      | 2 |\n    And the text:\n      \"\"\"\n      hello\n        world\n      \"\"\"\n");

        result.Status.Should().Be(ExecutionStatus.Passed);
        journal.Entries.Should().Contain("table:1,2").And.Contain("doc:hello\n  world");
    }

    [Fact]
    public async Task CapturesConvertToTheParameterTypes()
    {
        var (result, journal, _) = await Run("    Given 12 agents in the internet for 1m30s\n");

        result.Status.Should().Be(ExecutionStatus.Passed);
        journal.Entries.Should().Contain("12|Internet|00:01:30");
    }

    [Fact]
    public async Task AStepWithATable_DoesNotMatchABindingWithoutATableParameter()
    {
        var (result, _, _) = await Run("    Given a step that passes\n      | a |\n");

        result.Status.Should().Be(ExecutionStatus.Failed);
        result.FailureMessage.Should().Contain("parameters do not fit the step and its data table").And.Contain(nameof(Steps.Passes));
    }

    [Fact]
    public async Task IgnoreTag_SkipsTheScenario()
    {
        var scenario = InMemory.Scenario("Feature: F\n  @ignore\n  Scenario: S\n    Given a step that passes\n");
        var (context, journal) = InMemory.Context(scenario);

        var result = await FeatureRunner.RunScenarioAsync(scenario, s_registry, featureContext: context);

        result.Status.Should().Be(ExecutionStatus.Skipped);
        result.Steps.Should().OnlyContain(s => s.Status == ExecutionStatus.Skipped);
        journal.Entries.Should().BeEmpty();
    }
}
