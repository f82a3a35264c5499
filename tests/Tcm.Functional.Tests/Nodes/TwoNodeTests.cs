using System.Collections.Concurrent;
using System.Diagnostics;
using Tcm.Agent.State;
using Tcm.Agent.Tasks;

namespace Tcm.Functional.Tests.Nodes;

/// <summary>
/// Two real Notification Server nodes (<c>tcm ns</c> processes, <see cref="NodePair"/>) on one PostgreSQL database and real agents
/// whose policy lists both: a push from one node reaches agents on the other at once, a node killed mid-fan-out loses and doubles
/// nothing, an agent moving between nodes resumes where it was, and the admin API shows which node holds each agent. Agents poll
/// once an hour, so what reaches them within a deadline came over a channel.
/// </summary>
public sealed class TwoNodeTests(ITestOutputHelper output) : SystemTest(output)
{
    private readonly ConcurrentDictionary<string, int> _executions = new();
    private readonly Dictionary<TcmAgent, string> _names = [];
    private Action<string>? _running;

    [PostgresFact]
    public async Task PushThroughNodeA_ReachesAgentsOnNodeB_AtOnce_AndTheAdminApiShowsEachAgentsNode()
    {
        var nodes = Own(await NodePair.StartAsync(Output));
        var (a, b) = (nodes.A.HostPort, nodes.HostPortB);
        await nodes.A.Admin.PutProfileAsync(await nodes.A.Admin.GetDefaultProfileAsync() with { ServerHosts = [a, b] });
        await nodes.A.Admin.PutProfileAsync(new CommunicationProfile
        {
            Id = "prefer-b",
            Name = "Prefer node B",
            Priority = 10,
            ServerHosts = [b, a],
            Targets = new Targets { Rules = [new TargetRule("group", "b")] },
        });

        // Every agent registers while only node A runs (a node knows the agents registered before it started); then the agents of
        // group b start again with their state, and their policy sends them to node B first.
        var onA = await StartAgentsAsync(nodes, "PC-A", 2, group: "a");
        var states = Enumerable.Range(0, 3).Select(_ => new InMemoryAgentStateStore()).ToArray();
        var firstRuns = await StartAgentsAsync(nodes, "PC-B", states.Length, group: "b", states, own: false);
        await Eventually.WaitAsync(() => states.All(s => s.Current?.Policy?.Communication.ProfileId == "prefer-b"), Deadline, "group b to hold its policy");
        foreach (var agent in firstRuns)
        {
            await agent.DisposeAsync();
        }

        await nodes.StartBAsync();
        var onB = await StartAgentsAsync(nodes, "PC-B", states.Length, group: "b", states);
        await WaitOnNodeAsync(onA, nodes.A);
        await WaitOnNodeAsync(onB, nodes.B);

        var watch = Stopwatch.StartNew();
        var ids = IdsOf([.. onA, .. onB]);
        var action = await nodes.A.Admin.PushTaskAsync(TestTasks.Echo("from node A", ids));
        var done = await WaitForActionAsync(nodes.A, action.ActionId, s => s.Targets.Count == ids.Length && s.Targets.All(t => t.State == TaskState.Succeeded), "every target to succeed");
        watch.Stop();
        Output.WriteLine($"pushed through node A, every result stored after {watch.Elapsed.TotalMilliseconds:0} ms");

        done.Targets.Should().AllSatisfy(t =>
        {
            t.DeliveredVia.Should().Be("persistent");
            t.ResultCount.Should().Be(1);
        });
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "node B sends what node A stored as soon as A signals it, not at a poll or a reconnect");
        await ResultsStoredOnceAsync(nodes, action.ActionId, ids);
        onB.Select(agent => agent.GetNetworkStatus().ServerAddress).Should().AllBe(nodes.B.HostPort, "group b got the task over its channel to node B");

        // Each node shows its own agents at once and the other's within its refresh of the store.
        var expected = IdsOf(onA).Select(id => (id, "node-a")).Concat(IdsOf(onB).Select(id => (id, "node-b"))).ToDictionary(p => p.id, p => p.Item2);
        foreach (var node in new[] { nodes.A, nodes.B })
        {
            await Eventually.WaitAsync(
                () => node.Admin.ListAgentsAsync(),
                agents => agents.Count == expected.Count && agents.All(i => i.Node == expected[i.Id]),
                Deadline,
                $"node {node.Name}'s admin API to show which node holds each agent",
                describe: agents => string.Join(", ", agents.Select(i => $"{i.ComputerName}@{i.Node ?? "none"}")));
        }
    }

    [PostgresFact]
    public async Task NodeKilledMidFanOut_EveryAgentEndsOnTheOtherNode_AndEveryResultIsStoredExactlyOnce()
    {
        const int Fleet = 60;

        // why: node A sends one push at a time and the next as the agent acknowledges it (a server's back-pressure, at its narrowest),
        // so when it dies most of its fan-out is stored and not yet sent: node B must send that from the store.
        var nodes = Own(await NodePair.StartAsync(Output, "--NotificationServer:MaxPushesInFlight=1"));
        await nodes.A.Admin.PutProfileAsync(await nodes.A.Admin.GetDefaultProfileAsync() with { ServerHosts = [nodes.A.HostPort, nodes.HostPortB] });
        var agents = await StartAgentsAsync(nodes, "PC", Fleet);
        await WaitOnNodeAsync(agents, nodes.A, TimeSpan.FromSeconds(90));
        await nodes.StartBAsync();

        // Node A dies the moment the first agent starts the task: most of its sends, the agents' acknowledgements and their results are
        // still to come (the task runs long enough that no result can reach node A), and its answer to the push may be lost with it.
        var killed = 0;
        var fromA = 0;
        var byName = agents.ToDictionary(a => _names[a]);
        _running = computer =>
        {
            if (Interlocked.Exchange(ref killed, 1) == 0)
            {
                _ = nodes.A.KillAsync();
            }

            if (byName[computer].GetNetworkStatus().ServerAddress == nodes.A.HostPort)
            {
                Interlocked.Increment(ref fromA);
            }
        };
        var ids = IdsOf(agents);
        var push = nodes.A.Admin.PushTaskAsync(TestTasks.Sleep(0.5, ids));
        await Eventually.WaitAsync(() => Volatile.Read(ref killed) == 1 && !nodes.A.IsRunning, Deadline, "node A to be killed as the fan-out goes out");
        var actionId = (await nodes.QueryAsync("SELECT id FROM actions", r => r.GetString(0))).Single();
        await IgnoringTheLostAnswer(push);

        var done = await WaitForActionAsync(nodes.B, actionId, s => s.Targets.Count == Fleet && s.Targets.All(t => t.State == TaskState.Succeeded),
            "every target to succeed through node B");
        done.Targets.Should().AllSatisfy(t => t.ResultCount.Should().Be(1, "a result is stored once per idempotency key, whichever node it reaches"));
        await ResultsStoredOnceAsync(nodes, actionId, ids);
        RanOnce(agents, actionId);
        Output.WriteLine($"node A killed as its fan-out went out: {fromA} of {Fleet} agents ran the task as node A sent it, the others as node B sent it");
        fromA.Should().BeLessThan(Fleet, "node A died with part of its fan-out unsent (else this test showed only results moving, not pushes)");
        await WaitOnNodeAsync(agents, nodes.B);
        await Eventually.WaitAsync(() => nodes.B.Admin.ListAgentsAsync(), l => l.Count == Fleet && l.All(i => i.Node == "node-b"), Deadline, "node B to hold every agent",
            describe: l => string.Join(", ", l.Where(i => i.Node != "node-b").Select(i => $"{i.ComputerName}@{i.Node ?? "none"}")));
    }

    [PostgresFact]
    public async Task AgentMovingBetweenNodes_ResumesWithoutLossOrRepetition()
    {
        var nodes = Own(await NodePair.StartAsync(Output));
        await nodes.A.Admin.PutProfileAsync(await nodes.A.Admin.GetDefaultProfileAsync() with { ServerHosts = [nodes.A.HostPort, nodes.HostPortB] });
        var states = new[] { new InMemoryAgentStateStore(), new InMemoryAgentStateStore() };
        var agents = await StartAgentsAsync(nodes, "PC-M", states.Length, states: states);
        await WaitOnNodeAsync(agents, nodes.A);
        await nodes.StartBAsync();
        var ids = IdsOf(agents);
        var actions = new List<string>();

        // On node A; then node A dies and they move to B; then A is back, B dies and they move to A again.
        actions.Add(await PushAndWaitAsync(nodes.A, ids, "first, on node A"));
        await nodes.A.KillAsync();
        await WaitOnNodeAsync(agents, nodes.B);
        actions.Add(await PushAndWaitAsync(nodes.B, ids, "second, on node B"));
        await nodes.A.StartAsync();
        await nodes.B.KillAsync();
        await WaitOnNodeAsync(agents, nodes.A);
        actions.Add(await PushAndWaitAsync(nodes.A, ids, "third, on node A again"));

        foreach (var action in actions)
        {
            RanOnce(agents, action);
            await ResultsStoredOnceAsync(nodes, action, ids);
        }

        for (var i = 0; i < ids.Length; i++)
        {
            // The pushes of one agent, whichever node stored them, are numbered 1, 2, 3, ... in the order they were made, and the
            // agent took every one of them.
            var pushes = await nodes.QueryAsync("SELECT seq, action_id FROM pushes WHERE agent_id = @agent ORDER BY seq",
                r => (Seq: r.GetInt64(0), Action: r.IsDBNull(1) ? null : r.GetString(1)), ("agent", ids[i]));
            pushes.Select(p => p.Seq).Should().Equal(Enumerable.Range(1, pushes.Count).Select(n => (long)n), "sequence numbers continue across nodes, without a gap or a repeat");
            pushes.Where(p => p.Action is not null && actions.Contains(p.Action)).Select(p => p.Action).Should().Equal(actions, "each task was stored once, in order");
            var last = pushes[^1].Seq;
            await Eventually.WaitAsync(() => states[i].Current?.LastReceivedSeq.GetValueOrDefault(ChannelRole.NotificationServer), seq => seq == last, Deadline,
                $"agent {ids[i]} to have kept that it received up to push {last}");
        }
    }

    /// <summary>
    /// Starts <paramref name="count"/> agents named <c>{prefix}-{n}</c> from node A's package, counting what each runs, in
    /// <paramref name="group"/> (an attribute profiles target), each keeping its state in its own store of <paramref name="states"/> if given;
    /// disposed at the test's end unless <paramref name="own"/> is false (the test stops them itself).
    /// </summary>
    private async Task<TcmAgent[]> StartAgentsAsync(NodePair nodes, string prefix, int count, string group = "a", InMemoryAgentStateStore[]? states = null, bool own = true)
    {
        var agents = new TcmAgent[count];
        for (var i = 0; i < count; i++)
        {
            var name = $"{prefix}-{i + 1:000}";
            var options = RealAgents.Options(nodes.Package, name) with { Attributes = new Dictionary<string, string> { ["group"] = group } };
            agents[i] = await RealAgents.StartAsync(options, Output, executor: new CountingExecutor(new BuiltInTaskExecutor(), name, _executions, computer => _running?.Invoke(computer)), state: states?[i]);
            _names[agents[i]] = name;
            if (own)
            {
                Own(agents[i]);
            }
        }

        return agents;
    }

    /// <summary>Waits until every agent holds its persistent channel to <paramref name="node"/>.</summary>
    private static Task WaitOnNodeAsync(IReadOnlyList<TcmAgent> agents, NsNode node, TimeSpan? deadline = null) =>
        Eventually.WaitAsync(
            () => agents.Select(a => a.GetNetworkStatus()).ToList(),
            all => all.All(s => s.Transport == TransportKind.Persistent && s.ServerAddress == node.HostPort),
            deadline ?? Deadline,
            $"every agent to hold a channel to node {node.Name} ({node.HostPort})",
            describe: all => string.Join(", ", all.Where(s => s.Transport != TransportKind.Persistent || s.ServerAddress != node.HostPort)
                .Select(s => $"{s.ServerAddress} {s.Transport} {s.TransportDetail}")));

    private static Task<ActionStatus> WaitForActionAsync(NsNode node, string actionId, Func<ActionStatus, bool> condition, string what) =>
        Eventually.WaitAsync(() => node.Admin.GetActionAsync(actionId), condition, TimeSpan.FromSeconds(60), what,
            describe: s => string.Join(", ", s.Counts.Where(c => c.Value > 0).Select(c => $"{c.Key}: {c.Value}")));

    /// <summary>Pushes an echo to <paramref name="ids"/> through <paramref name="node"/> and waits until every target succeeded.</summary>
    private static async Task<string> PushAndWaitAsync(NsNode node, string[] ids, string text)
    {
        var action = await node.Admin.PushTaskAsync(TestTasks.Echo(text, ids));
        await WaitForActionAsync(node, action.ActionId, s => s.Targets.Count == ids.Length && s.Targets.All(t => t.State == TaskState.Succeeded), $"'{text}' to succeed");
        return action.ActionId;
    }

    /// <summary>The store holds exactly one result of <paramref name="actionId"/> per target, and none of anyone else.</summary>
    private static async Task ResultsStoredOnceAsync(NodePair nodes, string actionId, string[] ids)
    {
        var stored = await nodes.QueryAsync("SELECT agent_id, count(*) FROM results WHERE ref_id = @action GROUP BY agent_id",
            r => (Agent: r.GetString(0), Count: r.GetInt64(1)), ("action", actionId));
        stored.Should().BeEquivalentTo(ids.Select(id => (Agent: id, Count: 1L)), "every target's result is stored exactly once");
    }

    /// <summary>Every agent ran the task of <paramref name="actionId"/> exactly once.</summary>
    private void RanOnce(IReadOnlyList<TcmAgent> agents, string actionId)
    {
        var runs = agents.Select(a => _executions.GetValueOrDefault($"{_names[a]}:{actionId}")).ToList();
        runs.Should().AllSatisfy(n => n.Should().Be(1, "a task is run once, however many nodes sent it"));
    }

    /// <summary>Awaits a call to a node that was killed meanwhile: its answer may be lost with the node, nothing else.</summary>
    private static async Task IgnoringTheLostAnswer(Task call)
    {
        try
        {
            await call;
        }
        catch (HttpRequestException)
        {
        }
    }

    private static string[] IdsOf(IEnumerable<TcmAgent> agents) => agents.Select(a => a.AgentId ?? throw new InvalidOperationException("an agent has not registered")).ToArray();
}
