namespace Tcm.Features.Runner;

/// <summary>
/// Marks a class whose methods define steps and hooks. The runner creates one instance per scenario through the
/// scenario container, so the constructor may ask for context objects (see <see cref="ScenarioContext"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class BindingAttribute : Attribute;

/// <summary>
/// Base of the step attributes. The regular expression must match the whole step text (it is anchored ^...$ if you
/// leave the anchors out); each capture group fills one method parameter, in order, converted by
/// <see cref="StepArgumentConverter"/>. A step's data table or doc string is passed as one more, last, parameter
/// (<see cref="DataTable"/> or <c>string</c>). The method may be void, return <see cref="Task"/> or <see cref="ValueTask"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
internal abstract class StepDefinitionBaseAttribute(StepKeyword? keyword, string regex) : Attribute
{
    /// <summary>Given, When or Then; null for <see cref="StepDefinitionAttribute"/>, which matches any of them.</summary>
    public StepKeyword? Keyword { get; } = keyword;

    /// <summary>The regular expression the step text must match.</summary>
    public string Regex { get; } = regex;
}

/// <summary>A Given step (also matches And / But steps that follow a Given): <c>[Given(@"^an agent in the (\w+)$")]</c>.</summary>
internal sealed class GivenAttribute(string regex) : StepDefinitionBaseAttribute(StepKeyword.Given, regex);

/// <summary>A When step (also matches And / But steps that follow a When).</summary>
internal sealed class WhenAttribute(string regex) : StepDefinitionBaseAttribute(StepKeyword.When, regex);

/// <summary>A Then step (also matches And / But steps that follow a Then).</summary>
internal sealed class ThenAttribute(string regex) : StepDefinitionBaseAttribute(StepKeyword.Then, regex);

/// <summary>A step that matches whatever its keyword: Given, When or Then.</summary>
internal sealed class StepDefinitionAttribute(string regex) : StepDefinitionBaseAttribute(null, regex);

/// <summary>
/// Base of the hook attributes. With tags, the hook runs only for scenarios (or features) carrying at least one of them:
/// <c>[BeforeScenario("lab")]</c>. Hooks run in ascending <see cref="Order"/>, then by class and method name.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
internal abstract class HookAttribute(string[] tags) : Attribute
{
    /// <summary>Tags (with or without '@') that scope the hook; empty means every scenario or feature.</summary>
    public IReadOnlyList<string> Tags { get; } = [.. tags.Select(t => t.TrimStart('@'))];

    /// <summary>Lower runs first; default 10000, as in Reqnroll.</summary>
    public int Order { get; set; } = 10000;
}

/// <summary>
/// Runs before each scenario (after the binding classes' constructors). Instance or static; parameters are resolved
/// from the scenario container (<see cref="ScenarioContext"/>, <see cref="FeatureContext"/>, context classes). A failure
/// fails the scenario and skips its steps; the after-scenario hooks still run.
/// </summary>
internal sealed class BeforeScenarioAttribute(params string[] tags) : HookAttribute(tags);

/// <summary>Runs after each scenario, whatever its outcome (check <see cref="ScenarioContext.ScenarioExecutionStatus"/>).</summary>
internal sealed class AfterScenarioAttribute(params string[] tags) : HookAttribute(tags);

/// <summary>
/// Runs once before the first scenario of a feature (tags: the feature's). Must be static; may take a
/// <see cref="FeatureContext"/> parameter, which is where one lab for the whole feature lives. A failure fails every
/// scenario of the feature.
/// </summary>
internal sealed class BeforeFeatureAttribute(params string[] tags) : HookAttribute(tags);

/// <summary>Runs once after the last scenario of a feature. Must be static; may take a <see cref="FeatureContext"/> parameter.</summary>
internal sealed class AfterFeatureAttribute(params string[] tags) : HookAttribute(tags);

/// <summary>Throw from a step that is written but not implemented yet: the scenario is reported pending, never passed.</summary>
internal sealed class PendingStepException(string message = "One or more step definitions are not implemented yet.") : Exception(message);
