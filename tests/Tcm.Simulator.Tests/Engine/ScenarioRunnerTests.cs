using Tcm.Simulator.Engine;
using Tcm.Testing;
using Tcm.Simulator.Reports;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Tests.Engine;

/// <summary>The engine end to end: a real Notification Server in the lab, real agents over simulated networks, a scenario file.</summary>
public sealed class ScenarioRunnerTests
{
    [Fact]
    public async Task SmallOfficeScenario_PushesReachEveryone_AndSurviveAServerKill()
    {
        var (report, reportDirectory) = await RunPassingAsync("small-office.yaml");

        report.EndReason.Should().Be("completed");
        report.Agents.Should().Be(30);
        var hello = report.Actions.Single(a => a.Id == "hello");
        hello.Targets.Should().Be(30);
        hello.Succeeded.Should().Be(30);
        hello.DeliveredOverChannel.Should().Be(30, "every agent held a persistent connection when the task was pushed");
        report.Actions.Single(a => a.Id == "again").Succeeded.Should().Be(30, "agents came back after the server was killed and restarted");
        report.Timeline.Should().OnlyContain(e => e.Outcome == EventOutcome.Done);
        report.Samples.Should().NotBeEmpty();
        report.Traffic.Rows.Should().Contain(r => r.Adapter == "Vpn" && r.BytesSent > 0, "VPN users reach the corporate Notification Server over their VPN adapter");

        var files = await ReportWriter.WriteAllAsync(report, reportDirectory);
        files.Select(Path.GetFileName).Should().BeEquivalentTo(["report.json", "report.md", "report.html"]);
        (await File.ReadAllBytesAsync(files[0])).Take(1).Should().Equal((byte)'{'); // no byte-order mark: jq and friends read it
        Directory.Delete(reportDirectory, recursive: true);
    }

    [Fact]
    public async Task DownloadPackageScenario_OfficeUsesTheNearestCodebase_CemUsesHttpsThroughTheGateway_NothingOverTheVpn()
    {
        var (report, reportDirectory) = await RunPassingAsync("download-package.yaml");

        var office = report.Timeline.Single(e => e.Id == "office-download");
        office.Outcome.Should().Be(EventOutcome.Done);
        office.Detail.Should().StartWith("3 of 3 downloaded").And.Contain("Unc directly: 3");
        var nearest = report.Timeline.Single(e => e.Id == "office-nearest");
        nearest.Outcome.Should().Be(EventOutcome.Done);
        nearest.Detail.Should().StartWith("3 of 3 downloaded").And.Contain("Http at london directly: 3", "the codebase at the agents' site comes before the public one and another site's UNC");
        var vpn = report.Timeline.Single(e => e.Id == "vpn-download");
        vpn.Outcome.Should().Be(EventOutcome.Done);
        vpn.Detail.Should().StartWith("3 of 3 downloaded").And.Contain("Https at Frankfurt through the gateway: 3", "while CEM is preferred the site does not matter, and an HTTPS codebase at a site is relayed too");
        if (Directory.Exists(reportDirectory))
        {
            Directory.Delete(reportDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task SetSettingsWithASelection_ChangesTheSelectedAgentsOnly()
    {
        var (report, reportDirectory) = await RunPassingAsync("selected-settings.yaml");

        report.Timeline.Single(e => e.Id == "switch").Detail.Should().Be("settings of 4 selected agents changed");
        if (Directory.Exists(reportDirectory))
        {
            Directory.Delete(reportDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task AgentsRestarted_TheirRequestsOfEveryRunAreCounted_ByKindAndGroup()
    {
        var (report, reportDirectory) = await RunPassingAsync("restart-agents.yaml");

        report.Traffic.RequestsByKind["ns hello"].Should().BeGreaterThanOrEqualTo(12, "6 agents said hello once in each of two runs");
        report.Traffic.RequestsByKind["ts hello"].Should().BeGreaterThanOrEqualTo(12);
        report.Traffic.Groups.Should().ContainKey("all").WhoseValue.RequestsByKind["ns hello"].Should().Be(report.Traffic.RequestsByKind["ns hello"]);
        report.Traffic.ChannelRequests.Should().Be(report.Traffic.RequestsByKind.Where(r => !r.Key.EndsWith(" http", StringComparison.Ordinal)).Sum(r => r.Value));
        report.Traffic.HttpRequests.Should().BeGreaterThan(0, "registration and the policy are HTTP requests");
        if (Directory.Exists(reportDirectory))
        {
            Directory.Delete(reportDirectory, recursive: true);
        }
    }

    [PostgresFact]
    public async Task TwoNodesOnPostgres_ANodeKilledMidPush_EveryoneEndsOnTheOther_EveryTargetCompletesOnce()
    {
        var (report, reportDirectory) = await RunPassingAsync("two-nodes-smoke.yaml");

        var push = report.Actions.Single(a => a.Id == "push");
        (push.Targets, push.Succeeded).Should().Be((50, 50));
        report.Timeline.Single(e => e.Id == "kill").Detail.Should().MatchRegex("^[1-9][0-9]* connections to ns-1 reset$", "the agents on ns-1 lose their sockets without a close");
        report.Samples[^1].PersistentByNode.Should().Equal(new Dictionary<string, int> { ["ns-2"] = 50 });
        report.Notes.Should().Contain(n => n.StartsWith("nodes: persistent channels at the end ns-2 50; ", StringComparison.Ordinal) && n.Contains("ns-1 -> ns-2", StringComparison.Ordinal));
        if (Directory.Exists(reportDirectory))
        {
            Directory.Delete(reportDirectory, recursive: true);
        }
    }

    /// <summary>Runs a scenario of this folder in the lab and checks that every expectation held; the report folder is the caller's to delete.</summary>
    private static async Task<(SimulationReport Report, string ReportDirectory)> RunPassingAsync(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Engine", file);
        var scenario = ScenarioLoader.LoadOrThrow(path);
        var reportDirectory = Path.Combine(Path.GetTempPath(), "tcm-sim-tests", Guid.NewGuid().ToString("N")[..8]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var report = await new ScenarioRunner().RunAsync(scenario, new RunOptions { ScenarioPath = path, ReportDirectory = reportDirectory }, timeout.Token);

        report.Expectations.Where(e => !e.Passed).Should().BeEmpty();
        report.Passed.Should().BeTrue();
        return (report, reportDirectory);
    }
}
