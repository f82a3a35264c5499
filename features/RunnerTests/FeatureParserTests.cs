using FluentAssertions;
using Tcm.Features.Runner;
using Xunit;

namespace Tcm.Features.RunnerTests;

public sealed class FeatureParserTests
{
    private const string Outline = """"
        @feature-tag
        Feature: Parsing
          Some description.

          Background:
            Given a background step
            And another background step

          @outline-tag
          Scenario Outline: Add <a> and <b>
            Given the numbers:
              | a   | b   |
              | <a> | <b> |
            When I add them
            But I do not <verb> them
            Then I see:
              """
              sum is <sum>
              """

            Examples: small
              | a | b | sum | verb     |
              | 1 | 2 | 3   | multiply |

            @big
            Examples: big
              | a   | b   | sum  | verb   |
              | 100 | 200 | 300  | divide |

          Scenario: Plain
            * a star step
            Then a then step
            * another star step
        """";

    [Fact]
    public void Outline_BecomesOnePicklePerExamplesRow_WithParametersSubstitutedEverywhere()
    {
        var feature = FeatureParser.Parse(Outline, "dir/parsing.feature");

        feature.Info.Should().Match<FeatureInfo>(f => f.Title == "Parsing" && f.Uri == "dir/parsing.feature" && f.Description == "Some description.");
        feature.Scenarios.Should().HaveCount(3);

        var big = feature.Scenarios[1];
        big.Name.Should().Be("Add 100 and 200");
        big.DisplayName.Should().Be("Feature: Parsing: Add 100 and 200 [100, 200, 300, divide]");
        big.Tags.Should().Equal("feature-tag", "outline-tag", "big");
        big.Key.Should().Be($"L10:R{big.ExampleLine}");
        big.Steps.Select(s => s.Text).Should().Equal(
            "a background step", "another background step", "the numbers:", "I add them", "I do not divide them", "I see:");
        big.Steps[2].Table!.Rows.Single().Cells.Should().Equal("100", "200");
        big.Steps[5].DocString!.Content.Should().Be("sum is 300");
        big.Steps.Take(2).Should().OnlyContain(s => s.IsBackground);
        big.ExampleValues.Select(v => v.Key).Should().Equal("a", "b", "sum", "verb");
    }

    [Fact]
    public void AndButAndStar_TakeTheKeywordTheyContinue()
    {
        var feature = FeatureParser.Parse(Outline);

        feature.Scenarios[0].Steps.Select(s => s.Type).Should().Equal(
            StepKeyword.Given, StepKeyword.Given, StepKeyword.Given, StepKeyword.When, StepKeyword.When, StepKeyword.Then);
        var plain = feature.Scenarios[2];
        plain.DisplayName.Should().Be("Feature: Parsing: Plain");
        plain.Key.Should().Be($"L{plain.Line}");
        plain.Steps.Skip(2).Select(s => s.Type).Should().Equal(StepKeyword.Given, StepKeyword.Then, StepKeyword.Then);
        plain.Steps[2].ToString().Should().Be("* a star step");
    }

    [Fact]
    public void InvalidGherkin_ThrowsNamingTheFileAndLine()
    {
        var parse = () => FeatureParser.Parse("Feature: Broken\n  Scenario: S\n    Given a step\n  | a table | without a step |\n  Nonsense line\n", "broken.feature");

        parse.Should().Throw<FeatureParseException>().WithMessage("broken.feature is not valid Gherkin*(5:*");
    }

    [Fact]
    public void RuleKeyword_IsNotGherkin5_AndFailsLoudlyInsteadOfBeingReadAsDescription()
    {
        var parse = () => FeatureParser.Parse("Feature: F\n  Rule: R\n    Scenario: S\n      Given a step\n", "rule.feature");

        parse.Should().Throw<FeatureParseException>().WithMessage("rule.feature(2): Rule blocks need Gherkin 6*");
    }

    [Fact]
    public void OtherLanguages_AreParsedWithTheirKeywords()
    {
        var feature = FeatureParser.Parse("# language: de\nFunktionalität: F\n  Szenario: S\n    Angenommen ein Schritt\n    Und noch einer\n    Dann fertig\n");

        feature.Scenarios.Single().Steps.Select(s => s.Type).Should().Equal(StepKeyword.Given, StepKeyword.Given, StepKeyword.Then);
    }

    [Fact]
    public void EmptyFile_HasNoScenarios() => FeatureParser.Parse("# only a comment\n", "empty.feature").Scenarios.Should().BeEmpty();
}
