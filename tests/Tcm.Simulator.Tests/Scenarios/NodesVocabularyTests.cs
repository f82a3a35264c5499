using Tcm.Lab.Storage;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Tests.Scenarios;

/// <summary>
/// Several Notification Server nodes in a scenario: <c>store</c> and <c>nsNodes</c> under <c>system.lab</c>, the nodes as servers of
/// <c>kill-server</c> / <c>start-server</c>, and <c>of node &lt;name&gt;</c> in conditions; each mistake's error with its file, line and column.
/// </summary>
public sealed class NodesVocabularyTests
{
    private const string TwoNodes = """
        name: nodes
        system:
          lab:
            store: postgresql
            nsNodes: 2
            gateway: false
            taskServers: 0
        fleet:
          agents: 20
        timeline:
          - id: start
            at: 0s
            do: start-agents
          - id: kill
            at: 10s
            do: kill-server
            server: ns-1
          - id: back
            at: 20s
            do: start-server
            server: ns-1
        expect:
          everyone on ns-2: persistent == 20 of node ns-2 within 10s after kill
          nothing twice: no-duplicate-results
        """;

    [Fact]
    public void TwoNodesOnPostgres_LoadIntoTheModel()
    {
        var result = ScenarioLoader.Parse(TwoNodes, "t.yaml");

        result.Errors.Should().BeEmpty();
        var lab = result.Scenario!.System.Should().BeOfType<LabSystem>().Subject;
        (lab.Store, lab.NsNodes, lab.Gateway, lab.TaskServers).Should().Be((StoreKind.PostgreSql, 2, false, 0));
        lab.NodeNames.Should().Equal("ns-1", "ns-2");
        result.Scenario.FindEvent("kill")!.Action.Should().Be(new ServerAction(ServerOperation.Kill, "ns-1"));
        result.Scenario.FindEvent("back")!.Action.Should().Be(new ServerAction(ServerOperation.Start, "ns-1"));
        var onNode = result.Scenario.Expectations[0].Should().BeOfType<StateExpectation>().Subject.Condition;
        onNode.Of.Should().Be(new Population { Node = "ns-2" });
        (onNode.Metric, onNode.Op, onNode.Value).Should().Be((StateMetric.Persistent, Comparison.Equal, new Quantity(20, false)));
    }

    [Fact]
    public void OneNode_IsTheLabsNs_OnTheStoreTheEnvironmentPicks()
    {
        var result = ScenarioLoader.Parse("fleet: { agents: 1 }\ntimeline:\n  - { at: 1s, do: stop-server, server: ns }\n", "t.yaml");

        result.Errors.Should().BeEmpty();
        var lab = result.Scenario!.System.Should().BeOfType<LabSystem>().Subject;
        (lab.Store, lab.NsNodes).Should().Be(((StoreKind?)null, 1));
        lab.NodeNames.Should().Equal("ns");
    }

    /// <summary>One mistake (named for what it shows), the replacement that makes it, and the one error it gives.</summary>
    public static TheoryData<string, string, string, string> Mistakes() => new()
    {
        { "NodesOnSqlite", "store: postgresql", "store: sqlite", "t.yaml:5:14: 'nsNodes: 2' needs 'store: postgresql' under 'system.lab': several Notification Server nodes share one database, and the SQLite file is one node's" },
        { "NodesWithoutAStore", "    store: postgresql\n", "", "t.yaml:4:14: 'nsNodes: 2' needs 'store: postgresql' under 'system.lab': several Notification Server nodes share one database, and the SQLite file is one node's" },
        { "NodesWithTheGateway", "    gateway: false\n", "", "t.yaml:5:14: 'nsNodes: 2' runs without the gateway and Task Servers (they know one Notification Server address): add 'gateway: false' and 'taskServers: 0'" },
        { "NodesWithATaskServer", "taskServers: 0", "taskServers: 1", "t.yaml:5:14: 'nsNodes: 2' runs without the gateway and Task Servers (they know one Notification Server address): add 'gateway: false' and 'taskServers: 0'" },
        { "TheSingleNodesNameWithTwo", "server: ns-1\n  - id: back", "server: ns\n  - id: back", "t.yaml:17:13: unknown server 'ns' (the lab's Notification Server nodes are ns-1, ns-2; set 'nsNodes'); did you mean 'ns-1'?" },
        { "ANodeTheLabDoesNotRun", "server: ns-1\n  - id: back", "server: ns-3\n  - id: back", "t.yaml:17:13: unknown server 'ns-3' (the lab's Notification Server nodes are ns-1, ns-2; set 'nsNodes'); did you mean 'ns-1'?" },
        { "PopulationOfAnUnknownNode", "of node ns-2", "of node ns-3", "t.yaml:23:46: unknown node 'ns-3'; the lab's nodes are ns-1, ns-2 (see 'nsNodes'); did you mean 'ns-2'?" },
        { "PopulationNodeWithoutAName", "of node ns-2 within 10s after kill", "of node", "t.yaml:23:45: expected a Notification Server node (ns-1, ns-2) at the end of 'persistent == 20 of node'" },
    };

    [Theory]
    [InlineData("nsNodes: 2", "nsNodes: 9", "t.yaml:5:14: 'nsNodes' must be between 1 and 8 (got 9)")]
    [InlineData("store: postgresql", "store: mysql", "t.yaml:4:12: 'store' must be one of sqlite, postgresql (got 'mysql')")]
    public void AWrongValue_IsAnErrorAtItsPosition(string replace, string with, string expected)
    {
        // why: the rest of the file then reads as a lab of one node (or on SQLite), so errors about the nodes may follow it.
        var result = ScenarioLoader.Parse(TwoNodes.Replace(replace, with, StringComparison.Ordinal), "t.yaml");

        result.Errors.Select(e => e.ToString()).Should().Contain(expected);
    }

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void OneMistake_GivesOneErrorAtItsPosition(string mistake, string replace, string with, string expected)
    {
        TwoNodes.Should().Contain(replace, mistake);
        var result = ScenarioLoader.Parse(TwoNodes.Replace(replace, with, StringComparison.Ordinal), "t.yaml");

        result.Errors.Select(e => e.ToString()).Should().ContainSingle(mistake).Which.Should().Be(expected);
    }
}
