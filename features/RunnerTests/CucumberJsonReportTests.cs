using System.Text.Json;
using FluentAssertions;
using Tcm.Features.Runner;
using Xunit;

namespace Tcm.Features.RunnerTests;

public sealed class CucumberJsonReportTests
{
    private sealed class Steps
    {
        [Given("^a step that passes$")]
        public void Passes()
        {
        }

        [Given("^a step with a table:$")]
        public void Table(DataTable table)
        {
        }

        [Given("^a step with text:$")]
        public void Text(string text)
        {
        }

        [When("^a step that throws$")]
        public void Throws() => throw new InvalidOperationException("broken");

        [Then("^a step that is pending$")]
        public void Pending() => throw new PendingStepException();

        [StepDefinition("^a (.*) step$")]
        public void Any(string what)
        {
        }
    }

    private const string Feature = """"
        @report
        Feature: Report
          @green
          Scenario: Green
            Given a step that passes
            And a step with a table:
              | a | b |
              | 1 | 2 |
            Then a later step

          Scenario: Red
            Given a step that passes
            When a step that throws
            Then a later step

          Scenario: Unwritten
            Given a step nobody wrote
            Then a later step

          Scenario: Pending
            Given a step with text:
              """
              some text
              """
            Then a step that is pending
        """";

    private static async Task<(IReadOnlyList<ScenarioResult> Results, JsonElement Json)> RunAndReport()
    {
        var feature = FeatureParser.Parse(Feature, "report.feature");
        var result = await FeatureRunner.RunFeatureAsync(feature, BindingRegistry.FromTypes(typeof(Steps)));
        var report = new CucumberJsonReport();
        foreach (var scenario in result.Scenarios)
        {
            report.Add(scenario);
        }

        return (result.Scenarios, JsonDocument.Parse(report.ToJson()).RootElement.Clone());
    }

    private static string[] Statuses(JsonElement element) =>
        [.. element.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("result").GetProperty("status").GetString()!)];

    [Fact]
    public async Task StepStatuses_AreCucumberStatuses()
    {
        var (_, json) = await RunAndReport();

        var elements = json.EnumerateArray().Single().GetProperty("elements").EnumerateArray().ToArray();
        elements.Select(e => e.GetProperty("name").GetString()).Should().Equal("Green", "Red", "Unwritten", "Pending");
        Statuses(elements[0]).Should().Equal("passed", "passed", "passed");
        Statuses(elements[1]).Should().Equal("passed", "failed", "skipped");
        Statuses(elements[2]).Should().Equal("undefined", "skipped");
        Statuses(elements[3]).Should().Equal("passed", "pending");
    }

    [Fact]
    public async Task Ambiguous_IsWrittenAsFailed_WithTheCandidates()
    {
        var scenario = InMemory.Scenario("Feature: F\n  Scenario: S\n    Given a passing step\n");
        var registry = BindingRegistry.FromTypes(typeof(Steps), typeof(AmbiguousTwin));
        var result = await FeatureRunner.RunScenarioAsync(scenario, registry);

        var step = JsonDocument.Parse(CucumberJsonReport.ToJson([result])).RootElement[0].GetProperty("elements")[0].GetProperty("steps")[0];

        step.GetProperty("result").GetProperty("status").GetString().Should().Be("failed");
        step.GetProperty("result").GetProperty("error_message").GetString().Should().Contain("Steps.Any").And.Contain("AmbiguousTwin.Twin");
    }

    private sealed class AmbiguousTwin
    {
        [Given("^a passing step$")]
        public void Twin()
        {
        }
    }

    [Fact]
    public async Task Shape_FollowsCucumberJson()
    {
        var (results, json) = await RunAndReport();

        var feature = json.EnumerateArray().Single();
        feature.GetProperty("uri").GetString().Should().Be("report.feature");
        feature.GetProperty("keyword").GetString().Should().Be("Feature");
        feature.GetProperty("id").GetString().Should().Be("report");
        feature.GetProperty("tags")[0].GetProperty("name").GetString().Should().Be("@report");

        var green = feature.GetProperty("elements")[0];
        green.GetProperty("type").GetString().Should().Be("scenario");
        green.GetProperty("id").GetString().Should().Be("report;green");
        green.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()).Should().Equal("@report", "@green");
        var first = green.GetProperty("steps")[0];
        first.GetProperty("keyword").GetString().Should().Be("Given ");
        first.GetProperty("line").GetInt32().Should().Be(5);
        first.GetProperty("match").GetProperty("location").GetString().Should().Be("Steps.Passes");
        first.GetProperty("result").GetProperty("duration").GetInt64().Should().Be(results[0].Steps[0].Duration.Ticks * 100, "durations are nanoseconds");
        green.GetProperty("steps")[1].GetProperty("rows")[1].GetProperty("cells").EnumerateArray().Select(c => c.GetString()).Should().Equal("1", "2");

        var red = feature.GetProperty("elements")[1];
        red.GetProperty("steps")[1].GetProperty("result").GetProperty("error_message").GetString().Should().Contain("broken");
        red.GetProperty("steps")[2].GetProperty("result").TryGetProperty("duration", out _).Should().BeFalse();

        var unwritten = feature.GetProperty("elements")[2].GetProperty("steps")[0];
        unwritten.TryGetProperty("match", out _).Should().BeFalse();
        unwritten.GetProperty("result").GetProperty("error_message").GetString().Should().Contain("public void GivenAStepNobodyWrote()");

        feature.GetProperty("elements")[3].GetProperty("steps")[0].GetProperty("doc_string").GetProperty("value").GetString().Should().Be("some text");
    }

    [Fact]
    public async Task WriteTo_ReplacesTheWholeFile_AndItIsAlwaysValidJson()
    {
        var (results, _) = await RunAndReport();
        var directory = Directory.CreateTempSubdirectory("cucumber-");
        try
        {
            var path = Path.Combine(directory.FullName, "nested", "cucumber.json");
            var report = new CucumberJsonReport();
            foreach (var result in results)
            {
                report.Add(result);
                report.WriteTo(path);
                JsonDocument.Parse(File.ReadAllText(path)).RootElement[0].GetProperty("elements").GetArrayLength().Should().Be(report.Count);
            }

            report.Add(results[0]);
            report.Count.Should().Be(results.Count, "a scenario reported again replaces its earlier result");
            Directory.GetFiles(Path.GetDirectoryName(path)!).Should().ContainSingle("no temporary file is left behind");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Add_IsThreadSafe()
    {
        var (results, _) = await RunAndReport();
        var report = new CucumberJsonReport();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            foreach (var result in results)
            {
                report.Add(result);
                JsonDocument.Parse(report.ToJson());
            }
        })));

        report.Count.Should().Be(results.Count);
    }

    [Theory]
    [InlineData(null, "/run/TestResults/cucumber.json")]
    [InlineData("", "/run/TestResults/cucumber.json")]
    [InlineData("/reports", "/reports/cucumber.json")]
    [InlineData("/reports/features.json", "/reports/features.json")]
    [InlineData("out", "/run/out/cucumber.json")]
    public void Path_ComesFromTheVariable_OrTestResultsUnderTheWorkingDirectory(string? configured, string expected) =>
        CucumberJsonReport.ResolvePath(configured, "/run").Should().Be(expected);
}
