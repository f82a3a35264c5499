using System.Text.RegularExpressions;
using Gherkin;
using Ast = Gherkin.Ast;

namespace Tcm.Features.Runner;

/// <summary>
/// Turns feature text into <see cref="ScenarioPickle"/>s with the official Cucumber parser (Gherkin 5): Background steps are
/// put in front of every scenario, each Examples row of an outline becomes its own pickle with &lt;parameters&gt;
/// substituted in the name, step text, data tables and doc strings. Gherkin 5 has no Rule keyword, so Rule blocks are a
/// parse error.
/// </summary>
internal static partial class FeatureParser
{
    private static readonly GherkinDialectProvider s_dialects = new();

    /// <summary>Reads and parses one feature file; <paramref name="uri"/> is how reports name it.</summary>
    public static GherkinFeature ParseFile(string path, string uri) => Parse(File.ReadAllText(path), uri);

    /// <summary>Parses feature text. Throws <see cref="FeatureParseException"/> naming the line on invalid Gherkin.</summary>
    public static GherkinFeature Parse(string text, string uri = "inline.feature")
    {
        Ast.GherkinDocument document;
        try
        {
            document = new Parser().Parse(new StringReader(text));
        }
        catch (CompositeParserException ex)
        {
            throw new FeatureParseException(
                $"{uri} is not valid Gherkin:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", ex.Errors.Select(e => e.Message)),
                ex);
        }
        catch (ParserException ex)
        {
            throw new FeatureParseException($"{uri} is not valid Gherkin: {ex.Message}", ex);
        }

        var feature = document.Feature;
        RejectRules(text, uri, feature?.Language ?? "en");
        if (feature is null)
        {
            // An empty file, or one with only comments: nothing to run.
            return new GherkinFeature(new FeatureInfo(uri, Path.GetFileNameWithoutExtension(uri), "", "Feature", 1, [], "en"), []);
        }

        var info = new FeatureInfo(
            uri,
            feature.Name.Trim(),
            Clean(feature.Description),
            feature.Keyword,
            feature.Location.Line,
            TagNames(feature.Tags),
            feature.Language ?? "en");

        var dialect = s_dialects.GetDialect(info.Language, feature.Location);
        var background = feature.Children.OfType<Ast.Background>().FirstOrDefault();
        var pickles = new List<ScenarioPickle>();

        foreach (var child in feature.Children)
        {
            switch (child)
            {
                case Ast.Scenario scenario:
                    pickles.Add(new ScenarioPickle(
                        info,
                        $"L{scenario.Location.Line}",
                        scenario.Keyword,
                        scenario.Name.Trim(),
                        Clean(scenario.Description),
                        scenario.Location.Line,
                        null,
                        Union(info.Tags, TagNames(scenario.Tags)),
                        [.. Steps(background, scenario, dialect, NoValues)],
                        []));
                    break;

                case Ast.ScenarioOutline outline:
                    foreach (var examples in outline.Examples)
                    {
                        if (examples.TableHeader is null)
                        {
                            continue;
                        }

                        var header = examples.TableHeader.Cells.Select(c => c.Value).ToArray();
                        var tags = Union(info.Tags, TagNames(outline.Tags), TagNames(examples.Tags));
                        foreach (var row in examples.TableBody)
                        {
                            var values = header.Zip(row.Cells.Select(c => c.Value), KeyValuePair.Create).ToArray();
                            pickles.Add(new ScenarioPickle(
                                info,
                                $"L{outline.Location.Line}:R{row.Location.Line}",
                                outline.Keyword,
                                Substitute(outline.Name, values).Trim(),
                                Clean(outline.Description),
                                outline.Location.Line,
                                row.Location.Line,
                                tags,
                                [.. Steps(background, outline, dialect, values)],
                                values));
                        }
                    }

                    break;
            }
        }

        return new GherkinFeature(info, pickles);
    }

    private static readonly KeyValuePair<string, string>[] NoValues = [];

    /// <summary>
    /// Gherkin 5 reads a "Rule:" line as free description text, which would silently flatten the rules; say so instead.
    /// </summary>
    private static void RejectRules(string text, string uri, string language)
    {
        if (language != "en")
        {
            return;
        }

        var lines = text.Split('\n');
        var inDocString = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith("\"\"\"", StringComparison.Ordinal) || line.StartsWith("```", StringComparison.Ordinal))
            {
                inDocString = !inDocString;
            }
            else if (!inDocString && line.StartsWith("Rule:", StringComparison.Ordinal))
            {
                throw new FeatureParseException(
                    $"{uri}({i + 1}): Rule blocks need Gherkin 6 or later and this runner parses with Gherkin 5; remove the Rule line (tag its scenarios instead).");
            }
        }
    }

    private static IEnumerable<ScenarioStep> Steps(
        Ast.Background? background,
        Ast.ScenarioDefinition scenario,
        GherkinDialect dialect,
        IReadOnlyList<KeyValuePair<string, string>> values)
    {
        if (background is not null)
        {
            foreach (var step in Block(background.Steps, dialect, values, isBackground: true))
            {
                yield return step;
            }
        }

        foreach (var step in Block(scenario.Steps, dialect, values, isBackground: false))
        {
            yield return step;
        }
    }

    private static IEnumerable<ScenarioStep> Block(
        IEnumerable<Ast.Step> steps,
        GherkinDialect dialect,
        IReadOnlyList<KeyValuePair<string, string>> values,
        bool isBackground)
    {
        // Each block starts afresh: a leading And / But / * counts as Given.
        var previous = StepKeyword.Given;
        foreach (var step in steps)
        {
            previous = Classify(step.Keyword, dialect, previous);
            DataTable? table = null;
            DocString? docString = null;
            switch (step.Argument)
            {
                case Ast.DataTable astTable:
                    table = new DataTable(astTable.Rows.Select(r => r.Cells.Select(c => Substitute(c.Value, values))));
                    break;
                case Ast.DocString astDoc:
                    docString = new DocString(
                        Substitute(astDoc.Content, values),
                        Substitute(astDoc.ContentType ?? "", values),
                        astDoc.Location.Line);
                    break;
            }

            yield return new ScenarioStep(
                step.Keyword,
                previous,
                Substitute(step.Text, values),
                step.Location.Line,
                table,
                docString,
                isBackground);
        }
    }

    private static StepKeyword Classify(string keyword, GherkinDialect dialect, StepKeyword previous)
    {
        // "* " is listed under every keyword, so the continuing keywords are checked first.
        if (keyword == "* " || dialect.AndStepKeywords.Contains(keyword) || dialect.ButStepKeywords.Contains(keyword))
        {
            return previous;
        }

        if (dialect.GivenStepKeywords.Contains(keyword))
        {
            return StepKeyword.Given;
        }

        if (dialect.WhenStepKeywords.Contains(keyword))
        {
            return StepKeyword.When;
        }

        return dialect.ThenStepKeywords.Contains(keyword) ? StepKeyword.Then : previous;
    }

    private static string Substitute(string text, IReadOnlyList<KeyValuePair<string, string>> values)
    {
        if (values.Count == 0 || !text.Contains('<'))
        {
            return text;
        }

        return Placeholder().Replace(text, m =>
        {
            var name = m.Groups[1].Value;
            foreach (var pair in values)
            {
                if (pair.Key == name)
                {
                    return pair.Value;
                }
            }

            return m.Value;
        });
    }

    private static List<string> TagNames(IEnumerable<Ast.Tag> tags) => [.. tags.Select(t => t.Name.TrimStart('@'))];

    private static IReadOnlyList<string> Union(params IEnumerable<string>[] lists) =>
        [.. lists.SelectMany(l => l).Distinct(StringComparer.Ordinal)];

    private static string Clean(string? description) =>
        description is null ? "" : string.Join("\n", description.Split('\n').Select(l => l.Trim())).Trim();

    [GeneratedRegex("<([^<>]+)>")]
    private static partial Regex Placeholder();
}
