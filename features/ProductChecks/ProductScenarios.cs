using Gherkin;
using Gherkin.CucumberMessages;
using Gherkin.CucumberMessages.Pickles;
using Io.Cucumber.Messages.Types;

namespace Tcm.Features.ProductChecks;

/// <summary>One scenario (or Examples row) of a product feature file, as Gherkin compiles it, with the descriptions around it.</summary>
/// <param name="File">The feature file, relative to the build output.</param>
/// <param name="Pickle">Its compiled steps (outline values substituted, background included) and tags (feature's, scenario's, Examples').</param>
/// <param name="Description">The scenario's and the feature's description text.</param>
/// <param name="Feature">The feature the scenario belongs to.</param>
internal sealed record ProductScenario(string File, Pickle Pickle, string Description, Feature Feature)
{
    public string DisplayName => $"{File}: {Pickle.Name}";

    public bool HasTag(string tag) => Pickle.Tags.Any(t => t.Name == "@" + tag);
}

/// <summary>Reads the product features' .feature files (copied into the build output) the way Reqnroll's generator does: with Gherkin.</summary>
internal static class ProductScenarios
{
    /// <summary>The tags of the product features (a feature file carries one of them).</summary>
    public static readonly string[] Tags = ["fallback", "delivery", "routing", "downloads", "proxy", "waves"];

    public static IReadOnlyList<ProductScenario> All()
    {
        var root = AppContext.BaseDirectory;
        var ids = new IncrementingIdGenerator();
        var scenarios = new List<ProductScenario>();
        foreach (var path in Directory.EnumerateFiles(root, "*.feature", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var file = Path.GetRelativePath(root, path).Replace('\\', '/');
            var ast = new Parser().Parse(new TokenScanner(new StringReader(File.ReadAllText(path))), new TokenMatcher());
            var document = new AstMessagesConverter(ids).ConvertGherkinDocumentToEventArgs(ast, file);
            var descriptions = Descriptions(document);
            foreach (var pickle in new PickleCompiler(ids).Compile(document))
            {
                var scenarioDescription = pickle.AstNodeIds.Select(id => descriptions.GetValueOrDefault(id)).FirstOrDefault(d => d is not null) ?? "";
                var scenario = new ProductScenario(file, pickle, scenarioDescription + Environment.NewLine + document.Feature.Description, document.Feature);
                if (Tags.Any(scenario.HasTag))
                {
                    scenarios.Add(scenario);
                }
            }
        }

        return scenarios;
    }

    private static Dictionary<string, string> Descriptions(GherkinDocument document)
    {
        var descriptions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var child in document.Feature.Children)
        {
            if (child.Scenario is { } scenario)
            {
                descriptions[scenario.Id] = scenario.Description;
            }

            foreach (var ruleChild in child.Rule?.Children ?? [])
            {
                if (ruleChild.Scenario is { } inRule)
                {
                    descriptions[inRule.Id] = child.Rule!.Description + Environment.NewLine + inRule.Description;
                }
            }
        }

        return descriptions;
    }
}
