using Tcm.LoadTests.Cli;
using Tcm.LoadTests.Harness.Reports;
using Tcm.LoadTests.Harness.Statistics;

namespace Tcm.LoadTests.Tests;

/// <summary>A smoke test's run of the load-test command line: its own report folder (removed afterwards), output and report.</summary>
public abstract class SmokeRun : IDisposable
{
    /// <summary>The run's report folder.</summary>
    protected string Folder { get; } = Path.Combine(Path.GetTempPath(), "tcm-smoke-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Runs the command line with <paramref name="args"/> (plus <c>--report</c> and <c>--plain</c>); the report must exist.</summary>
    private protected async Task<(int ExitCode, string Output, LoadTestReport Report)> RunAsync(string[] args)
    {
        var output = new StringWriter();
        var exitCode = await LoadTestCli.RunAsync([.. args, "--report", Folder, "--plain"], output);
        var json = Path.Combine(Folder, "report.json");
        File.Exists(json).Should().BeTrue(output.ToString());
        return (exitCode, output.ToString(), JsonReport.Read(await File.ReadAllTextAsync(json)));
    }

    /// <summary>
    /// What every run of <paramref name="test"/> on <paramref name="variant"/> to its end shows: it passed, its one variant ran
    /// scenarios of that test only, each connected at least <paramref name="agents"/> agents and sampled its time series, every
    /// threshold held, and the HTML report has its charts. The variant's report, for what each run checks besides.
    /// </summary>
    private protected VariantReport RanToTheEnd(int exitCode, string output, LoadTestReport report, string variant, string test, int agents)
    {
        exitCode.Should().Be(ExitCodes.Passed, output);
        var ran = report.Variants.Should().ContainSingle().Which;
        ran.Variant.Should().Be(variant);
        ran.Scenarios.Should().NotBeEmpty().And.OnlyContain(s => s.Name.StartsWith(test, StringComparison.Ordinal));
        ran.Scenarios.Should().OnlyContain(s => s.FindStep("connect") != null && s.FindStep("connect")!.Ok.Count >= agents);
        ran.Scenarios.Should().OnlyContain(s => s.TimeSeries.Count > 0);
        report.Thresholds.Should().NotBeEmpty().And.OnlyContain(t => t.Passed);
        File.ReadAllText(Path.Combine(Folder, "report.html")).Should().Contain("<svg");
        return ran;
    }

    /// <summary>A push-fanout run's only scenario: at least one round, and every agent's delivery and round trip measured in each.</summary>
    private protected static void EveryAgentAnsweredEveryRound(LoadTestReport report, int agents) =>
        EveryAgentAnsweredEveryRound(report.Variants[0].Scenarios.Single(), agents);

    /// <summary>A push-fanout scenario: at least one round, and every agent's delivery and round trip measured in each.</summary>
    private protected static void EveryAgentAnsweredEveryRound(ScenarioStats scenario, int agents)
    {
        var rounds = scenario.FindStep("fanout")!.Ok.Count;
        rounds.Should().BeGreaterThan(0, scenario.Name);
        scenario.FindStep("deliver")!.Ok.Count.Should().Be(rounds * agents, $"{scenario.Name}: every agent, on whichever node, gets every push");
        scenario.FindStep("round-trip")!.Ok.Count.Should().Be(rounds * agents, scenario.Name);
    }
}
