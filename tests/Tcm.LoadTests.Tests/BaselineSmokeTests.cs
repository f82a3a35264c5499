using Tcm.LoadTests.Cli;
using Tcm.LoadTests.Harness.Reports;

namespace Tcm.LoadTests.Tests;

/// <summary>
/// Each baseline test end to end with a handful of agents, through the command line: checks the harness and the reports,
/// not the speed (figures come from load-test runs, never from unit tests).
/// </summary>
[Collection(nameof(BaselineSmokeTests))]
public sealed class BaselineSmokeTests : SmokeRun
{
    public static TheoryData<string, string[]> Runs => new()
    {
        { "connect-storm", ["--agents", "20", "--hold", "200ms", "--server", "inproc"] },
        { "push-fanout", ["--agents", "20", "--duration", "1500ms", "--interval", "500ms", "--protocol", "h1", "--server", "inproc"] },
        { "idle-hold", ["--agents", "20", "--duration", "500ms", "--ramp", "300ms", "--settle", "200ms", "--protocol", "h2"] },
        { "reconnect-storm", ["--agents", "20", "--down", "200ms", "--backoff", "100ms", "--backoff-max", "400ms", "--settle", "200ms", "--ramp", "500ms", "--protocol", "h1", "--server", "inproc"] },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public async Task BaselineTest_RunsToTheEnd_AndWritesEveryReport(string test, string[] options)
    {
        var (exitCode, output, report) = await RunAsync([test, "--variant", "baseline", .. options]);

        var scenarios = RanToTheEnd(exitCode, output, report, "baseline", test, agents: 20).Scenarios;
        File.ReadAllLines(Path.Combine(Folder, "report.csv")).Length.Should().BeGreaterThan(scenarios.Count);
    }

    [Theory]
    [InlineData("h2", false, 6, 6)]
    [InlineData("h2", true, 12, 6)]
    [InlineData("h1", true, 12, 12)]
    public async Task IdleHold_TheBareAgentsHoldTheTcmAgentsChannels_TwoWithATaskServer_OnOneConnectionOverHttp2(string protocol, bool taskServer, int channels, int connections)
    {
        string[] args = ["idle-hold", "--variant", "baseline", "--agents", "6", "--duration", "500ms", "--ramp", "200ms", "--settle", "200ms", "--protocol", protocol];
        var (exitCode, output, report) = await RunAsync(taskServer ? [.. args, "--task-server"] : args);

        exitCode.Should().Be(ExitCodes.Passed, output);
        var scenario = report.Variants.Single().Scenarios.Single();
        scenario.FindGauge("server-channels")!.Value.Should().Be(channels);
        scenario.FindGauge("server-connections")!.Value.Should().Be(connections);
        scenario.FindGauge("server-idle-cpu-per-1k-channels").Should().NotBeNull();
        scenario.FindGauge("load-average-end").Should().NotBeNull();
        output.Should().Contain("idle window starts");
    }

    [Fact]
    public async Task PushFanout_ReportsDeliveryAndRoundTrip_ForEveryAgent()
    {
        var (exitCode, output, report) = await RunAsync(["push-fanout", "--variant", "baseline", "--agents", "10", "--duration", "1s", "--interval", "250ms", "--protocol", "h2", "--server", "inproc", "--route", "direct"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        EveryAgentAnsweredEveryRound(report, 10);
        var scenario = report.Variants[0].Scenarios.Single();
        scenario.FindGauge("warmup-fanouts")!.Value.Should().Be(90, "ten full warm-up fan-outs, then 80 small ones to the warm-up agents' group, by default");
        scenario.FindGauge("warmup-fanouts-failed")!.Value.Should().Be(0);
    }

    [Fact]
    public async Task PushFanoutRate_FindsTheHighestRateCarried_AndTheServerCpuPerEcho()
    {
        var (exitCode, output, report) = await RunAsync(["push-fanout-rate", "--variant", "baseline", "--agents", "5", "--protocol", "h1", "--start-rate", "2/s", "--max-rate", "4/s", "--step", "500ms", "--rest", "100ms", "--duration", "20s"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        var scenario = report.Variants[0].Scenarios.Single();
        scenario.FindGauge("max-sustained-rate")!.Value.Should().Be(4, "the bare server carries a handful of agents at the ceiling");
        scenario.FindGauge("max-sustained-tasks-per-second")!.Value.Should().Be(20);
        scenario.FindStep("fanout")!.Fail.Count.Should().Be(0);
        scenario.FindGauge("server-cpu-per-task")!.Value.Should().BePositive("the server runs in its own process, read from /proc");
        scenario.FindGauge("client-cpu-per-agent-task")!.Value.Should().BePositive();
        output.Should().Contain("server-cpu-per-task");
        File.ReadAllText(Path.Combine(Folder, "gauges.csv")).Should().Contain(",max-sustained-rate,4,/s,");
    }

    [Fact]
    public async Task PushFanout_OnTheGatewayRoute_GoesThroughTheBareRelay_AndReportsItsCpuPerRelayedMessage()
    {
        var (exitCode, output, report) = await RunAsync(["push-fanout", "--variant", "baseline", "--agents", "6", "--duration", "1s", "--interval", "250ms", "--protocol", "h2", "--route", "gateway", "--task-server",
            "--warmup", "2", "--warmup-interval", "200ms", "--warmup-small", "5", "--warmup-settle", "200ms"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        report.Variants[0].Target.Should().Contain("through a bare relay");
        var scenario = report.Variants[0].Scenarios.Single();
        scenario.Name.Should().Be("push-fanout-h2-gw");
        EveryAgentAnsweredEveryRound(scenario, 6);
        scenario.FindGauge("relayed-messages-per-task")!.Value.Should().Be(2, "each push and its echo, nothing else, crossed the relay");
        scenario.FindGauge("relay-cpu-per-relayed-message")!.Value.Should().BePositive("the relay runs in its own process, read from /proc");
        scenario.FindGauge("relay-cpu-per-task")!.Value.Should().BePositive();
        output.Should().Contain("bare relay process");
    }

    [Fact]
    public async Task PushFanout_WithTheBareRelayOff_RunsTheBaselineDirect_OnlyOnce_ForBothRoutes()
    {
        var (exitCode, output, report) = await RunAsync(["push-fanout", "--variant", "baseline", "--agents", "4", "--duration", "1s", "--interval", "250ms", "--protocol", "h2", "--route", "both", "--bare-relay", "off",
            "--warmup", "2", "--warmup-interval", "200ms", "--warmup-small", "5", "--warmup-settle", "200ms"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        report.Variants[0].Target.Should().NotContain("bare relay");
        var scenario = report.Variants[0].Scenarios.Should().ContainSingle("the baseline's gateway route is its direct one without the relay").Subject;
        scenario.Name.Should().Be("push-fanout-h2");
        scenario.FindGauge("relay-cpu-per-task").Should().BeNull();
        EveryAgentAnsweredEveryRound(scenario, 4);
    }

    [Fact]
    public async Task Sharded_Run_MergesTheShards()
    {
        var (exitCode, output, report) = await RunAsync(["push-fanout", "--variant", "baseline", "--agents", "12", "--processes", "2", "--duration", "1s", "--interval", "500ms", "--protocol", "h1"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        var scenario = report.Variants[0].Scenarios.Single();
        scenario.Shards.Should().Be(2);
        scenario.FindStep("connect")!.Ok.Count.Should().Be(12);
        scenario.FindGauge("agents")!.Value.Should().Be(12);
        scenario.FindStep("deliver")!.Ok.Count.Should().Be(scenario.FindStep("fanout")!.Ok.Count * 6);
    }

    [Fact]
    public async Task FailingThreshold_GivesExitCodeOne_AndIsListed()
    {
        var (exitCode, _, report) = await RunAsync(["connect-storm", "--variant", "baseline", "--agents", "5", "--protocol", "h1", "--server", "inproc", "--hold", "100ms", "--threshold", "connect: p99 < 1us"]);

        exitCode.Should().Be(ExitCodes.ThresholdsFailed);
        report.Thresholds.Should().Contain(t => !t.Passed && t.Text == "connect: p99 < 1us");
    }

    [Theory]
    [InlineData("no-such-test")]
    [InlineData("connect-storm", "--threshold", "p99 fast")]
    [InlineData("connect-storm", "--duration", "soon")]
    [InlineData("polling-vs-channel", "--variant", "baseline")]
    [InlineData("connect-storm", "--target", "ftp://x")]
    [InlineData("connect-storm", "--variant", "baseline", "--route", "gateway")]
    [InlineData("connect-storm", "--route", "sideways")]
    [InlineData("push-fanout-rate", "--rate", "fast")]
    [InlineData("push-fanout", "--bare-relay", "maybe")]
    [InlineData("push-fanout", "--variant", "baseline", "--route", "gateway", "--bare-relay", "off")]
    [InlineData("connect-storm", "--bare-relay", "on")]
    public async Task BadInput_GivesExitCodeTwo_AndAnError(params string[] args)
    {
        var output = new StringWriter();
        var exitCode = await LoadTestCli.RunAsync([.. args, "--report", Folder], output);

        exitCode.Should().Be(ExitCodes.UsageError);
        output.ToString().Should().Contain("error");
    }

    [Fact]
    public async Task List_ShowsEveryTest()
    {
        var output = new StringWriter();
        (await LoadTestCli.RunAsync(["list"], output)).Should().Be(0);
        output.ToString().Should().Contain("connect-storm").And.Contain("push-fanout").And.Contain("idle-hold").And.Contain("polling-vs-channel").And.Contain("reconnect-storm").And.Contain("push-fanout-rate");
    }
}
