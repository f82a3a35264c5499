using YamlDotNet.Core;

namespace Tcm.Simulator.Scenarios;

/// <summary>
/// Reads scenario files (<c>docs/scenarios.md</c>) in two steps: <see cref="ScenarioDeserializer"/> turns the YAML into a
/// <see cref="ScenarioDocument"/> whose values keep their positions, then <see cref="ScenarioValidator"/> and the section
/// validators check it and build the <see cref="Scenario"/>. Every error names the file, line and column and says what was
/// expected; all errors are collected, not just the first; unknown keys are errors with a did-you-mean.
/// </summary>
internal static class ScenarioLoader
{
    /// <summary>Reads and parses <paramref name="path"/>; the file name in errors is <paramref name="path"/> as given.</summary>
    public static ScenarioLoadResult Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new ScenarioLoadResult { Errors = [new ScenarioError(path, 1, 1, $"cannot read the file: {ex.Message}")] };
        }

        return Parse(text, path);
    }

    /// <summary>Like <see cref="Load"/>, but throws <see cref="ScenarioException"/> with every error when the file has any.</summary>
    public static Scenario LoadOrThrow(string path)
    {
        var result = Load(path);
        return result.Succeeded ? result.Scenario! : throw new ScenarioException(result.Errors);
    }

    /// <summary>Parses scenario text; <paramref name="fileName"/> is used in errors and as the default name.</summary>
    public static ScenarioLoadResult Parse(string text, string fileName)
    {
        var context = new ValidationContext(fileName);
        var scenario = Validate(text, context);
        return context.Errors.Count > 0
            ? new ScenarioLoadResult { Errors = context.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToArray() }
            : new ScenarioLoadResult { Scenario = scenario };
    }

    private static Scenario? Validate(string text, ValidationContext context)
    {
        ScenarioYaml yaml;
        try
        {
            yaml = ScenarioDeserializer.Deserialize(text);
        }
        catch (YamlException ex)
        {
            context.Error(ex.Start, $"not valid YAML: {(ex.InnerException ?? ex).Message}");
            return null;
        }

        foreach (var key in yaml.RepeatedKeys)
        {
            context.Error(key, "this key appears twice in the same mapping");
        }

        if (yaml.Document is not { } document)
        {
            context.Errors.Add(new ScenarioError(context.File, 1, 1, "the file is empty; a scenario needs at least 'fleet' (see docs/scenarios.md)"));
            return null;
        }

        if (yaml.SecondDocument is { } second)
        {
            context.Error(second, "one scenario per file: remove the second YAML document ('---')");
        }

        return new ScenarioValidator(context).Validate(document);
    }
}
