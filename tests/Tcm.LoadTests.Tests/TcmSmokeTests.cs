using Tcm.LoadTests.Cli;
using Tcm.LoadTests.Harness.Reports;

namespace Tcm.LoadTests.Tests;

/// <summary>
/// Each test's tcm variant end to end with a handful of real agents against the real Notification Server in its own process,
/// through the command line: checks the variant, the harness and the reports, not the speed.
/// </summary>
[Collection(nameof(BaselineSmokeTests))]
public sealed class TcmSmokeTests : SmokeRun
{
    public static TheoryData<string, string[]> Runs => new()
    {
        { "connect-storm", ["--agents", "6", "--hold", "200ms", "--protocol", "h1", "--route", "direct"] },
        { "push-fanout", ["--agents", "6", "--duration", "1500ms", "--interval", "500ms", "--protocol", "h1", "--route", "direct"] },
        { "idle-hold", ["--agents", "6", "--duration", "500ms", "--ramp", "300ms", "--settle", "200ms", "--protocol", "h2", "--route", "direct"] },
        { "connect-storm", ["--agents", "6", "--hold", "200ms", "--protocol", "h2", "--route", "gateway"] },
        { "push-fanout", ["--agents", "6", "--duration", "1500ms", "--interval", "500ms", "--protocol", "h1", "--route", "gateway"] },
        { "reconnect-storm", ["--agents", "6", "--down", "200ms", "--backoff", "100ms", "--backoff-max", "400ms", "--settle", "200ms", "--ramp", "500ms", "--protocol", "h1"] },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public async Task TcmTest_RunsToTheEnd_AndWritesEveryReport(string test, string[] options)
    {
        var (exitCode, output, report) = await RunAsync([test, "--variant", "tcm", .. options]);

        var variant = RanToTheEnd(exitCode, output, report, "tcm", test, agents: 6);
        variant.Target.Should().Contain("Notification Server");
        var throughGateway = options.Contains("gateway");
        variant.Target.Should().Contain(throughGateway ? "through the CEM gateway" : "direct");
        variant.Scenarios.Should().ContainSingle().Which.Name.Should().Match(throughGateway ? "*-gw" : "*-h?");
    }

    [Fact]
    public async Task ConnectStorm_RegistersFirst_ThenStormsARestartedServer()
    {
        var (exitCode, output, report) = await RunAsync(["connect-storm", "--variant", "tcm", "--agents", "5", "--protocol", "h1", "--hold", "100ms", "--route", "direct"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        var scenario = report.Variants[0].Scenarios.Single();
        scenario.FindStep("register")!.Ok.Count.Should().Be(5);
        scenario.FindGauge("registration-rate")!.Value.Should().BePositive();
        scenario.FindGauge("server-restart").Should().NotBeNull();
        scenario.FindGauge("time-to-all-connected").Should().NotBeNull();
    }

    [Fact]
    public async Task PushFanout_MeasuresDeliveryResultAndCpu_ForEveryAgent()
    {
        var (exitCode, output, report) = await RunAsync(["push-fanout", "--variant", "tcm", "--agents", "5", "--duration", "1s", "--interval", "400ms", "--protocol", "h2", "--route", "direct"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        EveryAgentAnsweredEveryRound(report, 5);
        var scenario = report.Variants[0].Scenarios.Single();
        scenario.FindGauge("server-cpu-per-task")!.Value.Should().BePositive("the Notification Server's CPU is read from /proc");
        scenario.FindGauge("server-cpu-per-result")!.Value.Should().BePositive();
        scenario.FindGauge("client-cpu-per-agent-task")!.Value.Should().BePositive();
    }

    [Fact]
    public async Task IdleHold_ReadsTheServerProcessFigures()
    {
        var (exitCode, output, report) = await RunAsync(["idle-hold", "--variant", "tcm", "--agents", "5", "--duration", "500ms", "--ramp", "200ms", "--settle", "200ms", "--protocol", "h1", "--route", "direct"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        var scenario = report.Variants[0].Scenarios.Single();
        scenario.FindGauge("server-connections")!.Value.Should().BeGreaterThanOrEqualTo(5);
        scenario.FindGauge("connections")!.Value.Should().Be(5, "every agent is counted as it connects, so the measurement starts at once instead of after its one-minute wait");
        scenario.FindGauge("server-heap")!.Value.Should().BePositive();
        scenario.FindGauge("server-working-set")!.Value.Should().BePositive();
        scenario.FindGauge("measurement-failed").Should().BeNull();
    }

    [Fact]
    public async Task PollingVsChannel_MeasuresBothModes_AndSkipsTheBaselineWithANote()
    {
        var (exitCode, output, report) = await RunAsync(
            ["polling-vs-channel", "--agents", "4", "--poll-interval", "1s", "--duration", "3s", "--settle", "300ms", "--no-default-thresholds", "--threshold", "connect: fail% < 0.1"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        report.Notes.Should().ContainSingle(n => n.Contains("baseline", StringComparison.Ordinal));
        var scenario = report.Variants.Should().ContainSingle().Which.Scenarios.Single();
        scenario.FindStep("channel-action")!.Ok.Count.Should().Be(1, output);
        scenario.FindStep("polling-action")!.Ok.Count.Should().Be(1, output);
        scenario.FindStep("channel-time-to-action")!.Ok.Count.Should().Be(4);
        scenario.FindStep("polling-time-to-action")!.Ok.Count.Should().Be(4);
        scenario.FindGauge("polling-requests-per-agent-hour")!.Value.Should().BeGreaterThan(scenario.FindGauge("channel-requests-per-agent-hour")!.Value);
        scenario.FindGauge("requests-ratio")!.Value.Should().BeGreaterThan(1);
        scenario.FindGauge("bytes-ratio")!.Value.Should().BePositive();
    }

    [Fact]
    public async Task BothVariants_RunInOneInvocation_AndReportRatios()
    {
        var (exitCode, output, report) = await RunAsync(["connect-storm", "--agents", "4", "--protocol", "h1", "--server", "inproc", "--hold", "100ms", "--route", "direct"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        report.Variants.Select(v => v.Variant).Should().Equal("baseline", "tcm");
        report.Notes.Should().BeEmpty();
        report.Ratios.Should().NotBeEmpty();
    }

    [Fact]
    public async Task IdleHold_ThroughTheGateway_ReadsTheGatewayProcess_AndComparesItWithTheBaselineServer()
    {
        var (exitCode, output, report) = await RunAsync(["idle-hold", "--agents", "5", "--duration", "500ms", "--ramp", "200ms", "--settle", "200ms", "--protocol", "h2", "--server", "inproc"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        report.Notes.Should().ContainSingle(n => n.Contains("baseline", StringComparison.Ordinal) && n.Contains("gateway", StringComparison.Ordinal));
        report.Variants.Single(v => v.Variant == "baseline").Scenarios.Select(s => s.Name).Should().Equal("idle-hold-h2");
        var tcm = report.Variants.Single(v => v.Variant == "tcm").Scenarios;
        tcm.Select(s => s.Name).Should().Equal("idle-hold-h2", "idle-hold-h2-gw");
        var gateway = tcm[1];
        gateway.FindGauge("gateway-agents")!.Value.Should().BeGreaterThanOrEqualTo(5, "every agent holds its connection at the gateway");
        gateway.FindGauge("gateway-heap")!.Value.Should().BePositive();
        gateway.FindGauge("measurement-failed").Should().BeNull();
        tcm[0].FindGauge("gateway-agents").Should().BeNull("the direct run has no gateway");
        report.Ratios.Should().Contain(r => r.Scenario == "idle-hold-h2-gw" && r.Metric == "gateway-heap-per-agent / baseline server-heap-per-connection");
        report.Ratios.Should().Contain(r => r.Scenario == "idle-hold-h2" && r.Metric == "server-heap-per-connection");
    }

    [Fact]
    public async Task WithATaskServer_EveryAgentHoldsBothChannelsThroughTheGateway_AndTasksGoThroughTheTaskServer()
    {
        var (exitCode, output, report) = await RunAsync(["push-fanout", "--variant", "tcm", "--agents", "5", "--duration", "1s", "--interval", "400ms", "--protocol", "h2", "--route", "gateway", "--task-server"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        var variant = report.Variants.Single();
        variant.Target.Should().Contain("Task Server").And.Contain("through the CEM gateway");
        var scenario = variant.Scenarios.Single();
        var rounds = scenario.FindStep("fanout")!.Ok.Count;
        rounds.Should().BeGreaterThan(0);
        scenario.FindStep("deliver")!.Ok.Count.Should().Be(rounds * 5, "every agent's Client Task Agent gets every task from the Task Server");
        scenario.FindStep("round-trip")!.Ok.Count.Should().Be(rounds * 5);
        scenario.FindGauge("warmup-fanouts")!.Value.Should().Be(90, "ten full warm-up fan-outs, then 80 small ones to the warm-up agents, by default");
        scenario.FindGauge("warmup-fanouts-failed")!.Value.Should().Be(0, "the warm-up agents get their tasks through the Task Server too");
        scenario.FindGauge("fanouts-audited")!.Value.Should().Be(rounds + 10, "the audit reads the measured fan-outs and the ten full warm-up ones");
        scenario.FindGauge("fanouts-complete")!.Value.Should().Be(scenario.FindGauge("fanouts-audited")!.Value, "every audited fan-out has all its results");
        scenario.FindGauge("gateway-cpu-per-relayed-message")!.Value.Should().BePositive();
        scenario.FindGauge("relayed-messages-per-task")!.Value.Should().BeGreaterThanOrEqualTo(2, "at least the task and its result crossed the gateway");
    }

    [Fact]
    public async Task IdleHold_WithATaskServer_ReadsItsProcess()
    {
        var (exitCode, output, report) = await RunAsync(["idle-hold", "--variant", "tcm", "--agents", "5", "--duration", "500ms", "--ramp", "200ms", "--settle", "200ms", "--protocol", "h1", "--route", "direct", "--task-server"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        var scenario = report.Variants.Single().Scenarios.Single();
        scenario.FindGauge("task-server-working-set")!.Value.Should().BePositive();
        scenario.FindGauge("task-server-idle-cpu").Should().NotBeNull();
        scenario.FindGauge("server-connections")!.Value.Should().BeGreaterThanOrEqualTo(5);
    }

    [Fact]
    public async Task Sharded_GatewayRun_SharesOneServerAndOneGateway_AndMergesTheShards()
    {
        var (exitCode, output, report) = await RunAsync(["connect-storm", "--variant", "tcm", "--agents", "6", "--processes", "2", "--protocol", "h2", "--route", "gateway", "--hold", "200ms"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        var variant = report.Variants.Single();
        variant.Target.Should().Contain("through the CEM gateway").And.Contain("2 load processes");
        var scenario = variant.Scenarios.Single();
        scenario.Name.Should().Be("connect-storm-h2-gw");
        scenario.Shards.Should().Be(2);
        scenario.FindStep("connect")!.Ok.Count.Should().BeGreaterThanOrEqualTo(6);
        scenario.FindGauge("agents")!.Value.Should().Be(6);
    }
}
