using Tcm.Simulator.Cli;
using Tcm.Simulator.Reports;
using Tcm.Simulator.Scenarios;
using Tcm.Simulator.Tests.Reports;

namespace Tcm.Simulator.Tests.Cli;

public sealed class SimulatorCliTests : IDisposable
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _error = new();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tcm-cli-" + Guid.NewGuid().ToString("N"));

    public SimulatorCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        _out.Dispose();
        _error.Dispose();
    }

    private sealed class FakeRunner(SimulationReport report) : IScenarioRunner
    {
        public RunOptions? Options { get; private set; }

        public Task<SimulationReport> RunAsync(Scenario scenario, RunOptions options, CancellationToken cancellationToken)
        {
            Options = options;
            options.Progress.Publish(new RunSnapshot { Scenario = scenario.Name, Phase = "running" });
            return Task.FromResult(report);
        }
    }

    private SimulatorCli Cli(IScenarioRunner runner) => new(() => runner, _out, _error, interactive: false);

    private static string Quickstart => Path.Combine(TestPaths.Scenarios, "quickstart.yaml");

    [Fact]
    public async Task Validate_ShippedScenarios_ExitsZero()
    {
        var files = Directory.GetFiles(TestPaths.Scenarios, "*.yaml");
        var code = await Cli(new PlaceholderScenarioRunner()).InvokeAsync(["validate", .. files]);

        code.Should().Be(SimulatorCli.Ok, _error.ToString());
        _out.ToString().Should().Contain("ok  ").And.Contain("quickstart");
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("run")]
    public async Task BadFile_PrintsPositions_AndExitsTwo(string command)
    {
        var bad = Path.Combine(_dir, "bad.yaml");
        await File.WriteAllTextAsync(bad, "fleet:\n  agents: lots\n");

        var code = await Cli(new PlaceholderScenarioRunner()).InvokeAsync([command, bad]);

        code.Should().Be(SimulatorCli.InvalidInput);
        _error.ToString().Should().Contain($"{bad}:2:11: 'agents' must be a whole number (got 'lots')");
    }

    [Fact]
    public async Task Run_WithThePlaceholder_ExitsThree()
    {
        var code = await Cli(new PlaceholderScenarioRunner()).InvokeAsync(["run", Quickstart, "--report", _dir]);

        code.Should().Be(SimulatorCli.EngineUnavailable);
        _error.ToString().Should().Contain("the scenario engine is not built yet");
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 1)]
    public async Task Run_ExitCodeFollowsTheExpectations_AndWritesTheReport(bool passed, int expected)
    {
        var runner = new FakeRunner(ReportWriterTests.Sample(passed));

        var code = await Cli(runner).InvokeAsync(["run", Quickstart, "--report", _dir, "--agents", "10", "--seed", "9", "--shard", "1/2"]);

        code.Should().Be(expected, _error.ToString());
        runner.Options!.Agents.Should().Be(10);
        runner.Options.Seed.Should().Be(9);
        runner.Options.Shard.Should().Be(new Tcm.Simulator.Fleet.ShardSpec(1, 2));
        File.Exists(Path.Combine(_dir, "report.html")).Should().BeTrue();
        _out.ToString().Should().Contain(passed ? "PASSED" : "FAILED");
    }

    [Theory]
    [InlineData("--shard", "2/2")]
    [InlineData("--agents", "0")]
    public async Task Run_BadOptions_AreRejected(string option, string value)
    {
        var code = await Cli(new PlaceholderScenarioRunner()).InvokeAsync(["run", Quickstart, option, value]);

        code.Should().NotBe(SimulatorCli.Ok);
        code.Should().NotBe(SimulatorCli.EngineUnavailable);
    }

    [Fact]
    public async Task List_ShowsDescriptions()
    {
        var code = await Cli(new PlaceholderScenarioRunner()).InvokeAsync(["list", "--dir", TestPaths.Scenarios]);

        code.Should().Be(SimulatorCli.Ok);
        _out.ToString().Should().Contain("quickstart.yaml").And.Contain("1,000 agents in the office");
    }

    [Fact]
    public void PlainLiveLine_SummarisesTheSnapshot()
    {
        var line = LiveConsoleView.PlainLine(new RunSnapshot
        {
            Phase = "running", Elapsed = TimeSpan.FromSeconds(42), Duration = TimeSpan.FromMinutes(2), EventsDone = 3, EventsTotal = 5, LastEvent = "vpn-flip",
            Agents = 1000, Fleet = new ModeSample { At = 42, Running = 1000, Direct = 400, Cem = 600, Persistent = 990, Http = 10 }, Pushes = [new PushProgress("hello", "push-task", 1000, 990, 980, 0)],
        });

        line.Should().StartWith("[00:42/02:00] running 3/5 events (last vpn-flip)").And.Contain("direct 400, cem 600").And.Contain("hello 980/1000 done");
    }
}
