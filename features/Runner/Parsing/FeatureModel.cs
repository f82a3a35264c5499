namespace Tcm.Features.Runner;

/// <summary>The kind of a step once And / But / * are resolved to the keyword they continue.</summary>
internal enum StepKeyword
{
    Given,
    When,
    Then,
}

/// <summary>What a feature file says about itself: shown in test names, hooks and the Cucumber report.</summary>
/// <param name="Uri">Path of the file relative to the features root, with '/' separators.</param>
/// <param name="Title">The feature's name.</param>
/// <param name="Description">Free text under the Feature line.</param>
/// <param name="Keyword">The keyword as written ("Feature").</param>
/// <param name="Line">Line of the Feature keyword.</param>
/// <param name="Tags">The feature's tags, without '@'.</param>
/// <param name="Language">The Gherkin dialect ("en" unless a "# language:" line says otherwise).</param>
internal sealed record FeatureInfo(
    string Uri,
    string Title,
    string Description,
    string Keyword,
    int Line,
    IReadOnlyList<string> Tags,
    string Language);

/// <summary>A doc string argument ("""...""") of a step, after Examples substitution.</summary>
internal sealed record DocString(string Content, string ContentType, int Line);

/// <summary>One step of a scenario, Background steps included, after Examples substitution.</summary>
/// <param name="Keyword">The keyword as written, with its trailing space ("And ").</param>
/// <param name="Type">Given, When or Then: what And / But / * continue.</param>
/// <param name="Text">The step text after the keyword.</param>
/// <param name="Line">Line in the feature file.</param>
/// <param name="Table">The data table under the step, if any.</param>
/// <param name="DocString">The doc string under the step, if any.</param>
/// <param name="IsBackground">True for steps that come from the Background.</param>
internal sealed record ScenarioStep(
    string Keyword,
    StepKeyword Type,
    string Text,
    int Line,
    DataTable? Table,
    DocString? DocString,
    bool IsBackground)
{
    /// <summary>The step as read in the feature file: "Given an agent in the office".</summary>
    public override string ToString() => Keyword.TrimEnd() + " " + Text;
}

/// <summary>
/// One runnable scenario: a Scenario, or one Examples row of a Scenario Outline, with the Background's steps in
/// front and every &lt;parameter&gt; substituted. This is what becomes one test case.
/// </summary>
/// <param name="Feature">The feature it belongs to.</param>
/// <param name="Key">Stable key inside the feature file: "L12" for a scenario at line 12, "L12:R20" for the Examples row at line 20.</param>
/// <param name="Keyword">The keyword as written ("Scenario", "Scenario Outline").</param>
/// <param name="Name">The scenario's name, parameters substituted.</param>
/// <param name="Description">Free text under the Scenario line.</param>
/// <param name="Line">Line of the Scenario keyword.</param>
/// <param name="ExampleLine">Line of the Examples row, for an outline row.</param>
/// <param name="Tags">Feature, scenario and Examples tags, without '@', in that order, without duplicates.</param>
/// <param name="Steps">Background steps then the scenario's own.</param>
/// <param name="ExampleValues">The Examples row as header -> value, in column order (empty for a plain scenario).</param>
internal sealed record ScenarioPickle(
    FeatureInfo Feature,
    string Key,
    string Keyword,
    string Name,
    string Description,
    int Line,
    int? ExampleLine,
    IReadOnlyList<string> Tags,
    IReadOnlyList<ScenarioStep> Steps,
    IReadOnlyList<KeyValuePair<string, string>> ExampleValues)
{
    /// <summary>The test name: "Feature: Calculator: Add two numbers [1, 2, 3]".</summary>
    public string DisplayName =>
        ExampleValues.Count == 0
            ? $"Feature: {Feature.Title}: {Name}"
            : $"Feature: {Feature.Title}: {Name} [{string.Join(", ", ExampleValues.Select(v => v.Value))}]";

    /// <summary>True when the scenario is tagged with <paramref name="tag"/> (with or without '@', case-insensitive).</summary>
    public bool HasTag(string tag) => Tags.Contains(tag.TrimStart('@'), StringComparer.OrdinalIgnoreCase);
}

/// <summary>A parsed feature file: its header and its runnable scenarios, in file order.</summary>
internal sealed record GherkinFeature(FeatureInfo Info, IReadOnlyList<ScenarioPickle> Scenarios);

/// <summary>A feature file that is not valid Gherkin; the message names the file, line and column.</summary>
internal sealed class FeatureParseException(string message, Exception? inner = null) : Exception(message, inner);
