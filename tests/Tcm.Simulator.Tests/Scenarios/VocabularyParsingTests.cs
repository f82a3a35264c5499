using Tcm.Agent.Network;
using Tcm.Lab.Storage;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Tests.Scenarios;

/// <summary>
/// The scenario words QA and developers asked for: several VPN adapters per machine and <c>adapter:</c> on the VPN actions,
/// <c>set-profile</c> with its targets, traffic by destination, purpose, group and request kind, <c>p&lt;NN&gt; reconnected</c>, and
/// <c>throughout ... until</c>, traffic after an event, several NS nodes (<c>store</c>, <c>nsNodes</c>, <c>kill-server ns-1</c>, <c>of node ns-2</c>):
/// what they load into, and each mistake's error with its file, line and column.
/// </summary>
public sealed class VocabularyParsingTests
{
    private const string Base = """
        name: words
        fleet:
          agents: 20
          groups:
            - { name: office, share: 50%, location: office }
            - name: home
              share: 50%
              location: internet
              vpn: up
              vpnAdapters: [checkpoint, cisco-anyconnect]
        timeline:
          - id: start
            at: 0s
            do: start-agents
          - id: one-down
            at: 10s
            do: vpn-down
            adapter: checkpoint
            select: home
          - id: kiosks
            at: 20s
            do: set-profile
            profile: kiosks
            targets: { group: office, site: "Lon*" }
            persistent: false
            cem: missing
            priority: 20
          - id: back
            at: 30s
            do: set-profile
            profile: Default
            targets: [office, home]
        expect:
          stays direct: direct >= 99% of home throughout after start until one-down
          corporate bytes of home: bytes to corporate for task-server of home > 0 after one-down
          results over the task server channel: requests kind ts.task.result of office >= 10
          reconnects: p90 reconnected back <= 20s

        """;

    /// <summary>Traffic expectations measured after an event, against the legacy run.</summary>
    private const string Window = """
        name: window
        fleet:
          agents: 10
          legacy: compare
          groups:
            - name: office
              share: 100%
        timeline:
          - id: start
            at: 0s
            do: start-agents
          - id: settled
            after: start
            delay: 10s
        expect:
          steady: bytes-per-agent-hour <= legacy / 20 after settled
          whole run: requests <= 100
        """;

    [Fact]
    public void TheNewWords_LoadIntoTheModel()
    {
        var result = ScenarioLoader.Parse(Base, "t.yaml");

        result.Errors.Should().BeEmpty();
        var scenario = result.Scenario!;
        scenario.FindGroup("home")!.VpnAdapters.Select(a => a.Preset).Should().Equal("checkpoint", "cisco-anyconnect");
        scenario.FindGroup("office")!.VpnAdapters.Should().BeEmpty();
        scenario.FindEvent("one-down")!.Action.Should().Be(new VpnDownAction("checkpoint"));
        var kiosks = scenario.FindEvent("kiosks")!.Action.Should().BeOfType<SetProfileAction>().Subject;
        kiosks.Profile.Should().Be("kiosks");
        kiosks.Targets!.Rules.Should().Equal(new Dictionary<string, string> { ["group"] = "office", ["site"] = "Lon*" });
        (kiosks.Persistent, kiosks.Cem, kiosks.Priority).Should().Be((false, CemValidity.Missing, 20));
        scenario.FindEvent("back")!.Action.Should().BeOfType<SetProfileAction>().Which.Targets!.Groups.Should().Equal("office", "home");

        var expectations = scenario.Expectations;
        expectations[0].Should().BeOfType<StateExpectation>().Which.Window.Should().Be(new ThroughoutWindow("start") { UntilEventId = "one-down" });
        var bytes = expectations[1].Should().BeOfType<TrafficExpectation>().Subject;
        bytes.Filter.Should().Be(new TrafficFilter { Destination = EndpointClass.Corporate, Purpose = TrafficPurpose.TaskServer, Group = "home" });
        bytes.AfterEventId.Should().Be("one-down");
        expectations[2].Should().BeOfType<TrafficExpectation>().Which.Filter.Should().Be(new TrafficFilter { Group = "office", Connection = "ts", Kind = "task.result" });
        expectations[3].Should().Be(new LatencyExpectation(0.9, LatencyPhase.Reconnected, "back", Comparison.LessOrEqual, TimeSpan.FromSeconds(20))
        {
            Name = "reconnects", Text = "p90 reconnected back <= 20s", Position = expectations[3].Position,
        });
    }

    [Theory]
    [InlineData("targets: all", true, 0, 0)]
    [InlineData("targets: none", false, 0, 0)]
    [InlineData("targets: home", false, 1, 0)]
    [InlineData("targets: { os: \"Windows 11*\" }", false, 0, 1)]
    public void ProfileTargets_TakeEveryForm(string targets, bool all, int groups, int rules)
    {
        var result = ScenarioLoader.Parse(Base.Replace("targets: [office, home]", targets, StringComparison.Ordinal), "t.yaml");

        result.Errors.Should().BeEmpty();
        var parsed = result.Scenario!.FindEvent("back")!.Action.Should().BeOfType<SetProfileAction>().Which.Targets!;
        (parsed.All, parsed.Groups.Count, parsed.Rules.Count).Should().Be((all, groups, rules));
    }

    [Fact]
    public void RequestKind_WithoutAConnection_CountsBoth()
    {
        var filter = Traffic("requests kind ack <= 100");

        filter.Should().Be(new TrafficFilter { Kind = "ack" });
        filter.IncludesRequest("ns ack").Should().BeTrue();
        filter.IncludesRequest("ts ack").Should().BeTrue();
        filter.IncludesRequest("ts http").Should().BeFalse();
        new TrafficFilter { Connection = "ts", Kind = "http" }.IncludesRequest("ns http").Should().BeFalse();
    }

    /// <summary>
    /// One mistake in a new word: the valid scenario it is made in (<c>words</c>: <see cref="Base"/>, <c>nodes</c>: <see cref="TwoNodes"/>), its
    /// name (what it shows), the replacement that makes it, and the one error it gives.
    /// </summary>
    public static TheoryData<string, string, string, string, string> Mistakes() => new()
    {
        { "words", "VpnAdaptersWithoutAVpnClient", "location: office }", "location: office, vpnAdapters: [checkpoint, fortinet] }", "t.yaml:5:66: 'vpnAdapters' needs VPN clients: add 'vpn: down' or 'vpn: up' to group 'office'" },
        { "words", "VpnAdaptersOfOne", "[checkpoint, cisco-anyconnect]", "[checkpoint]", "t.yaml:10:20: 'vpnAdapters' lists 2 to 8 adapters (got 1); one adapter is 'vpnAdapter'" },
        { "words", "VpnAdaptersTwice", "[checkpoint, cisco-anyconnect]", "[checkpoint, checkpoint]", "t.yaml:10:33: 'vpnAdapters' lists the adapter 'Ethernet 3' twice; each VPN client adds its own" },
        { "words", "VpnAdaptersUnknownPreset", "[checkpoint, cisco-anyconnect]", "[checkpoint, ciscoo]", "t.yaml:10:33: unknown VPN adapter preset 'ciscoo'; expected one of: checkpoint, cisco-anyconnect, globalprotect, fortinet, wireguard, openvpn; or give '{ name: ..., description: ... }'" },
        { "words", "VpnAdapterAndVpnAdapters", "      vpnAdapters:", "      vpnAdapter: checkpoint\n      vpnAdapters:", "t.yaml:10:19: group 'home' has both 'vpnAdapter' and 'vpnAdapters'; list every adapter under 'vpnAdapters'" },
        { "words", "AdapterNoMachineHas", "adapter: checkpoint", "adapter: wireguard", "t.yaml:18:14: no group's machines have the VPN adapter 'wireguard' (they have checkpoint, cisco-anyconnect)" },
        { "words", "SetProfileWithoutAName", "    profile: kiosks\n", "", "t.yaml:20:5: 'set-profile' needs 'profile' (the profile's name: Default, or one to add, like 'home workers')" },
        { "words", "SetProfileWithNothingToSet", "    profile: Default\n    targets: [office, home]\n", "    profile: Default\n", "t.yaml:28:5: 'set-profile' needs something to set: 'targets', 'persistent', 'cem' or 'priority'" },
        { "words", "TargetsOfAnUnknownGroup", "targets: [office, home]", "targets: [office, hme]", "t.yaml:32:14: unknown group 'hme' in 'targets'; did you mean 'home'?" },
        { "words", "TargetsWithAnUnknownRule", "{ group: office, site: \"Lon*\" }", "{ group: office, sight: \"Lon*\" }", "t.yaml:24:31: 'targets' matches the attributes group, site, location, os, model, computerName, domain (got 'sight')" },
        { "words", "ProfileCemWord", "cem: missing", "cem: gone", "t.yaml:26:10: 'cem' must be one of valid, missing, invalid, wrong-port (got 'gone')" },
        { "words", "ThroughoutUntilAnUnknownEvent", "until one-down", "until one-dwn", "t.yaml:34:68: unknown event id 'one-dwn'; did you mean 'one-down'?" },
        { "words", "UntilWithoutAnEvent", "until one-down", "until", "t.yaml:34:67: expected an event id at the end of 'direct >= 99% of home throughout after start until'" },
        { "words", "TrafficToAnUnknownDestination", "to corporate", "to internal", "t.yaml:35:37: expected 'corporate' (Notification Server, Task Servers, package servers) or 'public' (gateway, HTTPS codebases) (got 'internal')" },
        { "words", "TrafficForAnUnknownPurpose", "for task-server", "for tasks", "t.yaml:35:51: expected a purpose: management, task-server, download or probe (got 'tasks')" },
        { "words", "TrafficOfAnUnknownGroup", "for task-server of home", "for task-server of hom", "t.yaml:35:66: unknown group 'hom'; did you mean 'home'?" },
        { "words", "RequestsByDestination", "requests kind ts.task.result", "requests to corporate", "t.yaml:36:50: 'requests' counts requests by 'kind' and group ('of'), not by destination or purpose; 'to' goes with bytes" },
        { "words", "BytesByKind", "bytes to corporate for task-server", "bytes kind ack", "t.yaml:35:34: 'kind' counts requests; 'bytes' is counted by destination ('to'), purpose ('for') and group ('of')" },
        { "words", "UnknownRequestKind", "kind ts.task.result", "kind ts.task.push", "t.yaml:36:55: unknown request kind 'ts.task.push' (kinds: http, hello, ack, task.status, task.result, inventory.result, http.request, http.response, each optionally after 'ns.' or 'ts.')" },
        { "words", "QualifierTwice", "of office >= 10", "of office of home >= 10", "t.yaml:36:80: 'of' is given twice" },
        { "words", "ReconnectedWithoutAnEvent", "p90 reconnected back <= 20s", "p90 reconnected <= 20s", "t.yaml:37:30: 'p90 reconnected' needs the event reconnects count from, like 'p90 reconnected back <= 20s'" },
        { "words", "ReconnectedAfterAnUnknownEvent", "p90 reconnected back", "p90 reconnected bak", "t.yaml:37:31: unknown event id 'bak'; did you mean 'back'?" },
        { "nodes", "NodesOnSqlite", "store: postgresql", "store: sqlite", "t.yaml:5:14: 'nsNodes: 2' needs 'store: postgresql' under 'system.lab': several Notification Server nodes share one database, and the SQLite file is one node's" },
        { "nodes", "NodesWithoutAStore", "    store: postgresql\n", "", "t.yaml:4:14: 'nsNodes: 2' needs 'store: postgresql' under 'system.lab': several Notification Server nodes share one database, and the SQLite file is one node's" },
        { "nodes", "NodesWithTheGateway", "    gateway: false\n", "", "t.yaml:5:14: 'nsNodes: 2' runs without the gateway and Task Servers (they know one Notification Server address): add 'gateway: false' and 'taskServers: 0'" },
        { "nodes", "NodesWithATaskServer", "taskServers: 0", "taskServers: 1", "t.yaml:5:14: 'nsNodes: 2' runs without the gateway and Task Servers (they know one Notification Server address): add 'gateway: false' and 'taskServers: 0'" },
        { "nodes", "TheSingleNodesNameWithTwo", "server: ns-1\n  - id: back", "server: ns\n  - id: back", "t.yaml:17:13: unknown server 'ns' (the lab's Notification Server nodes are ns-1, ns-2; set 'nsNodes'); did you mean 'ns-1'?" },
        { "nodes", "ANodeTheLabDoesNotRun", "server: ns-1\n  - id: back", "server: ns-3\n  - id: back", "t.yaml:17:13: unknown server 'ns-3' (the lab's Notification Server nodes are ns-1, ns-2; set 'nsNodes'); did you mean 'ns-1'?" },
        { "nodes", "PopulationOfAnUnknownNode", "of node ns-2", "of node ns-3", "t.yaml:23:46: unknown node 'ns-3'; the lab's nodes are ns-1, ns-2 (see 'nsNodes'); did you mean 'ns-1'?" },
        { "nodes", "PopulationNodeWithoutAName", "of node ns-2 within 10s after kill", "of node", "t.yaml:23:45: expected a Notification Server node (ns-1, ns-2) at the end of 'persistent == 20 of node'" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void OneMistake_GivesOneErrorAtItsPosition(string scenario, string mistake, string replace, string with, string expected)
    {
        var valid = scenario == "nodes" ? TwoNodes : Base;
        valid.Should().Contain(replace, mistake);
        var result = ScenarioLoader.Parse(valid.Replace(replace, with, StringComparison.Ordinal), "t.yaml");

        result.Errors.Select(e => e.ToString()).Should().ContainSingle(mistake).Which.Should().Be(expected);
    }

    [Fact]
    public void TrafficExpectation_AfterAnEvent_NamesItsWindow()
    {
        var result = ScenarioLoader.Parse(Window, "window.yaml");

        result.Succeeded.Should().BeTrue(string.Join("\n", result.Errors));
        var traffic = result.Scenario!.Expectations.OfType<TrafficExpectation>().ToArray();
        traffic.Single(t => t.Name == "steady").AfterEventId.Should().Be("settled");
        traffic.Single(t => t.Name == "steady").LegacyFactor.Should().BeApproximately(0.05, 1e-9);
        traffic.Single(t => t.Name == "whole run").AfterEventId.Should().BeNull();
    }

    [Fact]
    public void TrafficExpectation_AfterAnUnknownEvent_IsAnErrorWithItsPosition()
    {
        var result = ScenarioLoader.Parse(Window.Replace("after settled", "after setled", StringComparison.Ordinal), "window.yaml");

        result.Succeeded.Should().BeFalse();
        result.Errors.Should().ContainSingle(e => e.Message.Contains("setled", StringComparison.Ordinal) && e.Line == 16);
    }

    private static TrafficFilter Traffic(string expression)
    {
        var result = ScenarioLoader.Parse(Base + "  extra: " + expression + "\n", "t.yaml");
        result.Errors.Should().BeEmpty();
        return result.Scenario!.Expectations.OfType<TrafficExpectation>().Single(e => e.Name == "extra").Filter;
    }

    // ------------------------------------------------------------ several NS nodes: store, nsNodes, node servers, of node

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

    [Theory]
    [InlineData("nsNodes: 2", "nsNodes: 9", "t.yaml:5:14: 'nsNodes' must be between 1 and 8 (got 9)")]
    [InlineData("store: postgresql", "store: mysql", "t.yaml:4:12: 'store' must be one of sqlite, postgresql (got 'mysql')")]
    public void AWrongNodeOrStoreValue_IsAnErrorAtItsPosition(string replace, string with, string expected)
    {
        // why: the rest of the file then reads as a lab of one node (or on SQLite), so errors about the nodes may follow it.
        var result = ScenarioLoader.Parse(TwoNodes.Replace(replace, with, StringComparison.Ordinal), "t.yaml");

        result.Errors.Select(e => e.ToString()).Should().Contain(expected);
    }

}
