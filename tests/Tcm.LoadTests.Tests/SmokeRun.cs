using Tcm.LoadTests.Cli;
using Tcm.LoadTests.Harness.Reports;

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

    /// <summary>A push-fanout run's scenario: at least one round, and every agent's delivery and round trip measured in each.</summary>
    private protected static void EveryAgentAnsweredEveryRound(LoadTestReport report, int agents)
    {
        var scenario = report.Variants[0].Scenarios.Single();
        var rounds = scenario.FindStep("fanout")!.Ok.Count;
        rounds.Should().BeGreaterThan(0);
        scenario.FindStep("deliver")!.Ok.Count.Should().Be(rounds * agents);
        scenario.FindStep("round-trip")!.Ok.Count.Should().Be(rounds * agents);
    }
}
