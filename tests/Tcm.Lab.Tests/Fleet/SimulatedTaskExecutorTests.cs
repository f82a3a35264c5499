using Tcm.Lab.Fleet;
using Tcm.Lab.Network;
using Tcm.Protocol;

namespace Tcm.Lab.Tests.Fleet;

public sealed class SimulatedTaskExecutorTests
{
    private static readonly TimeSpan s_zero = TimeSpan.Zero;

    /// <summary>Agent <paramref name="index"/> of a fleet seeded <paramref name="fleetSeed"/>, its tasks as <paramref name="task"/> says.</summary>
    private static AgentSpec Agent(int index, TaskBehaviour? task = null, int fleetSeed = 1) => new()
    {
        Index = index,
        ComputerName = $"LON-LT-{index:D5}",
        Domain = "contoso.local",
        User = @"CONTOSO\qa",
        OsName = "Windows 11 Enterprise",
        OsVersion = "10.0.22631",
        Site = "London",
        GroupName = "g",
        Task = task ?? new TaskBehaviour { Duration = new(s_zero, s_zero) },
        Location = AgentLocation.Office,
        Vpn = VpnState.None,
        Cem = CemValidity.Valid,
        Hardware = new HardwareInfo("Contoso", "Latitude 7440", $"SN-{index}", 8, 16L << 30, 512L << 30),
        Software = [new InstalledSoftware("7-Zip", "23.01", "Igor Pavlov"), new InstalledSoftware("Contoso VPN", "5.2", "Contoso")],
        Seed = StableHash.Mix((ulong)(uint)fleetSeed, (ulong)index + 1),
    };

    [Fact]
    public async Task Echo_ReturnsTheText()
    {
        var agent = Agent(0);
        var outcome = await new SimulatedTaskExecutor(agent).ExecuteAsync(Task("t1", "echo", new() { ["text"] = "hi" }), CancellationToken.None);

        outcome.Should().Be(new Tcm.Agent.Tasks.TaskOutcome(true, 0, "hi"));
    }

    [Fact]
    public async Task FailureRate_IsSeeded_AndRoughlyHeld()
    {
        var fleet = Enumerable.Range(0, 200).Select(i => Agent(i, new TaskBehaviour { FailureRate = 0.25, Duration = new(s_zero, s_zero) }, fleetSeed: 7)).ToList();

        async Task<int> CountFailures()
        {
            var failures = 0;
            foreach (var agent in fleet)
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
        var agent = Agent(0, new TaskBehaviour { Duration = new(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10)) });
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
        var agent = Agent(3);
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
