using Tcm.Protocol;
using Tcm.Simulator.Fleet;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Tests.Fleet;

public sealed class SimulatedTaskExecutorTests
{
    private static Scenario Scenario(string task) => ScenarioLoader.Parse($$"""
        fleet:
          agents: 200
          groups:
            - { name: g, share: 100%, task: {{task}} }
        """, "t.yaml").Scenario!;

    [Fact]
    public async Task Echo_ReturnsTheText()
    {
        var agent = FleetBuilder.Build(Scenario("{ duration: 0s }"), 1).Agents[0];
        var outcome = await new SimulatedTaskExecutor(agent).ExecuteAsync(Task("t1", "echo", new() { ["text"] = "hi" }), CancellationToken.None);

        outcome.Should().Be(new Tcm.Agent.Tasks.TaskOutcome(true, 0, "hi"));
    }

    [Fact]
    public async Task FailureRate_IsSeeded_AndRoughlyHeld()
    {
        var fleet = FleetBuilder.Build(Scenario("{ duration: 0s, failureRate: 25% }"), 7);

        async Task<int> CountFailures()
        {
            var failures = 0;
            foreach (var agent in fleet.Agents)
            {
                var outcome = await new SimulatedTaskExecutor(agent).ExecuteAsync(Task("scan-1", "scan"), CancellationToken.None);
                failures += outcome.Succeeded ? 0 : 1;
            }

            return failures;
        }

        var first = await CountFailures();
        first.Should().BeInRange(25, 75);
        (await CountFailures()).Should().Be(first);
    }

    [Fact]
    public async Task Cancellation_IsHonoured()
    {
        var agent = FleetBuilder.Build(Scenario("{ duration: 10m }"), 1).Agents[0];
        using var cts = new CancellationTokenSource();
        var executor = new SimulatedTaskExecutor(agent);
        var running = executor.ExecuteAsync(Task("long", "patch"), cts.Token).AsTask();

        await cts.CancelAsync();

        await running.Awaiting(t => t.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<OperationCanceledException>();
        executor.Executed.Should().Be(1);
    }

    [Fact]
    public async Task Inventory_ComesFromTheSpec_WithTheNetworksAddresses()
    {
        var agent = FleetBuilder.Build(Scenario("{ duration: 0s }"), 1).Agents[3];
        var network = new SimulatedNetwork(new NetworkTopology(), AgentLocation.Office, addressSeed: 3);

        var basic = await new SimulatedTaskExecutor(agent, network: network).CollectInventoryAsync(null, CancellationToken.None);
        var full = await new SimulatedTaskExecutor(agent).CollectInventoryAsync(["software"], CancellationToken.None);

        basic.ComputerName.Should().Be(agent.ComputerName);
        basic.Software.Should().BeNull();
        basic.IpAddresses.Should().ContainSingle().Which.Should().StartWith("10.20.");
        full.Software.Should().BeEquivalentTo(agent.Software);
    }

    private static TaskPushMessage Task(string id, string command, Dictionary<string, string>? parameters = null) =>
        new() { Seq = 1, TaskId = id, Command = command, Parameters = parameters };
}
