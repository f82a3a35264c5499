namespace Tcm.Features.Runner;

/// <summary>The outcome of a step, a hook or a scenario, as Cucumber names them (ambiguous is reported as failed in JSON).</summary>
internal enum ExecutionStatus
{
    Passed,
    Failed,
    Skipped,
    Undefined,
    Pending,
    Ambiguous,
}

/// <summary>How one step went.</summary>
/// <param name="Step">The step.</param>
/// <param name="Status">Its outcome.</param>
/// <param name="Duration">Time spent in the step method (zero if it did not run).</param>
/// <param name="Binding">The binding that ran, if one was found.</param>
/// <param name="Error">Why it failed or is pending.</param>
/// <param name="Candidates">For an ambiguous step, the bindings that all match.</param>
/// <param name="Snippet">For an undefined step, the C# to define it.</param>
internal sealed record StepResult(
    ScenarioStep Step,
    ExecutionStatus Status,
    TimeSpan Duration,
    StepBinding? Binding = null,
    Exception? Error = null,
    IReadOnlyList<StepBinding>? Candidates = null,
    string? Snippet = null);

/// <summary>How one hook went (passed or failed).</summary>
internal sealed record HookResult(HookBinding Hook, ExecutionStatus Status, TimeSpan Duration, Exception? Error);

/// <summary>How one scenario went: what a test case reports and what the Cucumber JSON is written from.</summary>
/// <param name="Scenario">The scenario.</param>
/// <param name="Status">Passed, or the first thing that went wrong: failed, undefined, pending, ambiguous (skipped for @ignore).</param>
/// <param name="Steps">Every step, in order; after the first problem the rest are skipped (or undefined, if they are).</param>
/// <param name="BeforeHooks">The before-scenario hooks that ran.</param>
/// <param name="AfterHooks">The after-scenario hooks that ran.</param>
/// <param name="Duration">Wall time of the whole scenario, hooks included.</param>
/// <param name="FailureMessage">What a human reads when it did not pass: the step, the error or the snippets.</param>
/// <param name="Error">The first exception, for its stack trace.</param>
internal sealed record ScenarioResult(
    ScenarioPickle Scenario,
    ExecutionStatus Status,
    IReadOnlyList<StepResult> Steps,
    IReadOnlyList<HookResult> BeforeHooks,
    IReadOnlyList<HookResult> AfterHooks,
    TimeSpan Duration,
    string? FailureMessage,
    Exception? Error)
{
    /// <summary>True only when every step passed (a pending or undefined scenario has not passed).</summary>
    public bool Passed => Status == ExecutionStatus.Passed;

    /// <summary>The snippets of every undefined step.</summary>
    public IEnumerable<string> Snippets => Steps.Where(s => s.Snippet is not null).Select(s => s.Snippet!);
}

/// <summary>How the feature hooks went; <see cref="Error"/> gathers their failures (and disposal failures).</summary>
internal sealed record FeatureHooksResult(IReadOnlyList<HookResult> Hooks, Exception? Error);

/// <summary>How a whole feature went, from <see cref="FeatureRunner.RunFeatureAsync"/>.</summary>
internal sealed record FeatureResult(
    GherkinFeature Feature,
    IReadOnlyList<ScenarioResult> Scenarios,
    FeatureHooksResult BeforeFeature,
    FeatureHooksResult AfterFeature);

/// <summary>Thrown into xUnit for a scenario that did not pass; the message is the scenario's failure message.</summary>
internal sealed class ScenarioFailedException(string message, Exception? inner) : Exception(message, inner);
