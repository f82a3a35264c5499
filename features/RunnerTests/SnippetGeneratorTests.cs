using FluentAssertions;
using Tcm.Features.Runner;
using Xunit;

namespace Tcm.Features.RunnerTests;

public sealed class SnippetGeneratorTests
{
    private static ScenarioStep Step(StepKeyword type, string text, DataTable? table = null, DocString? doc = null) =>
        new("Given ", type, text, 1, table, doc, IsBackground: false);

    [Fact]
    public void PlainStep_GivesTheExactReqnrollStyleSnippet() =>
        SnippetGenerator.For(Step(StepKeyword.Given, "the agent is in the office")).Should().Be(
            "[Given(@\"^the agent is in the office$\")]" + Environment.NewLine +
            "public void GivenTheAgentIsInTheOffice()" + Environment.NewLine +
            "{" + Environment.NewLine +
            "    throw new PendingStepException();" + Environment.NewLine +
            "}");

    [Fact]
    public void QuotedTextAndNumbers_BecomeTypedParameters_AndRegexCharactersAreEscaped()
    {
        var snippet = SnippetGenerator.For(Step(StepKeyword.Then, "agent \"alpha\" gets 3 tasks within 1.5 seconds (p99)"));

        snippet.Should().StartWith("[Then(@\"^agent \"\"([^\"\"]*)\"\" gets (-?\\d+) tasks within (-?\\d+(?:\\.\\d+)?) seconds \\(p99\\)$\")]")
            .And.Contain("public void ThenAgentGetsTasksWithinSecondsP99(string p0, int p1, double p2)");
    }

    [Fact]
    public void TableAndDocString_AddALastParameter()
    {
        SnippetGenerator.For(Step(StepKeyword.Given, "these agents:", new DataTable([["a"]])))
            .Should().Contain("public void GivenTheseAgents(DataTable table)");
        SnippetGenerator.For(Step(StepKeyword.When, "the policy is:", doc: new DocString("{}", "json", 2)))
            .Should().Contain("public void WhenThePolicyIs(string docString)");
    }

    [Fact]
    public void Snippet_MatchesTheStepItWasMadeFor()
    {
        const string text = "agent \"alpha\" gets 3 tasks within 1.5 seconds (p99) [x] $5";
        var snippet = SnippetGenerator.For(Step(StepKeyword.Then, text));
        var verbatim = snippet[(snippet.IndexOf("@\"", StringComparison.Ordinal) + 2)..snippet.IndexOf("\")]", StringComparison.Ordinal)].Replace("\"\"", "\"", StringComparison.Ordinal);

        System.Text.RegularExpressions.Regex.IsMatch(text, verbatim).Should().BeTrue(verbatim);
    }
}
