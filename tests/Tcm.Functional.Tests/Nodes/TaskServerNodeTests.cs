using System.Collections.Concurrent;
using Tcm.Agent.Tasks;
using Tcm.Lab.Storage;
using Tcm.NotificationServer.Cluster;

namespace Tcm.Functional.Tests.Nodes;

/// <summary>
/// Two Notification Server nodes in this process on one PostgreSQL database (one data folder: one CA and admin key), a real Task Server
/// that calls node B first and node A after it, and real agents: a task an administrator pushes or cancels on node A reaches the Task
/// Server on node B at once, node A shows what the Task Server did, and a Task Server whose node dies goes on with the other, each task
/// run once. Agents poll once an hour, so what reaches them within a deadline came over a channel.
/// </summary>
public sealed class TaskServerNodeTests(ITestOutputHelper output) : SystemTest(output)
{
    private readonly ConcurrentDictionary<string, int> _executions = new();
    private NotificationServerHost _a = null!;
    private NotificationServerHost _b = null!;
    private TaskServerHost _ts = null!;

    [PostgresFact]
    public async Task TaskPushedOnA_WhileTheTaskServerPollsB_IsAcceptedRunAndStoredOnce_AndAShowsIt()
    {
        var agents = await StartAsync(agents: 3, agentsNode: () => _a);

        var action = await _a.PushThroughTaskServersAsync(TestTasks.Echo("through node b", [.. agents.Select(a => a.Id)]));

        var status = await WaitForActionAsync(_a, action.ActionId, s => s.Counts["succeeded"] == agents.Count, "node A to show every result the Task Server forwarded to node B");
        status.Targets.Should().OnlyContain(t => t.ResultCount == 1 && t.Output == "through node b" && t.DeliveredVia == "persistent");
        Scalar($"SELECT COUNT(*) FROM ts_tasks WHERE action_id='{action.ActionId}' AND accepted_by='{_ts.Info.Id}'").Should().Be(agents.Count, "the Task Server's acceptance is the store's");
        Scalar($"SELECT COUNT(*) FROM results WHERE ref_id='{action.ActionId}'").Should().Be(agents.Count, "each result is stored once");
        _executions.Should().HaveCount(agents.Count).And.OnlyContain(e => e.Value == 1, "each agent ran the task once");
    }

    [PostgresFact]
    public async Task TaskServerCallingB_IsShownByAWithItsCounts_AndThePoliciesAGivesListThem()
    {
        var agents = await StartAsync(agents: 2, agentsNode: () => _a);

        var onA = (await WaitForTaskServersAsync(_a, l => l.Single().ConnectedAgents == agents.Count, "node A to show the agents the Task Server calling node B holds")).Single();
        (onA.RegisteredAgents, onA.Online, onA.Node).Should().Be((agents.Count, true, "node-b"));

        // why a change of the selection: a policy lists the counts of when it was computed; the change makes node A compute and push them again.
        using (var response = await _a.Admin.PutAsJsonAsync($"{TcmPaths.Admin}/task-servers/selection", new TaskServerSelectionSettings(), ProtocolJsonContext.Default.TaskServerSelectionSettings))
        {
            response.EnsureSuccessStatusCode();
        }

        foreach (var (agent, _) in agents)
        {
            await Eventually.WaitAsync(() => agent.Policy?.TaskServers?.Servers.Single().RegisteredAgents, n => n == agents.Count, Deadline,
                "the policy node A pushes to list the agents the Task Server on node B holds, for the fewest-computers selection");
        }
    }

    [PostgresFact]
    public async Task CancelOnA_OfATaskTheTaskServerOnBRuns_ReachesItAtOnce_AndLeavesTheStoreOnceTaken()
    {
        // The agents' own channel is to node B too, so the cancel can reach them only through the Task Server.
        var agents = await StartAsync(agents: 2, agentsNode: () => _b);
        var action = await _a.PushThroughTaskServersAsync(TestTasks.Sleep(3600, [.. agents.Select(a => a.Id)]));
        await WaitForStateAsync(_a, action.ActionId, TaskState.Running);

        using (var response = await _a.Admin.PostAsync($"{TcmPaths.Admin}/actions/{action.ActionId}/cancel", null))
        {
            (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ActionCancelled)).Should()
                .Be(new ActionCancelled(action.ActionId, Cancelled: 0, CancelsSent: agents.Count, Running: agents.Count), "both tasks are held by the Task Server");
        }

        var status = await WaitForStateAsync(_a, action.ActionId, TaskState.Cancelled);
        status.Targets.Should().OnlyContain(t => t.ResultCount == 1 && t.Output == "cancelled by an administrator", "each agent stopped its hour-long task and reported it");
        await Eventually.WaitAsync(
            () => Scalar($"SELECT COUNT(*) FROM ts_tasks WHERE action_id='{action.ActionId}' AND cancelled_at IS NOT NULL"), n => n == 0, Deadline,
            "the cancels to leave the store once the Task Server took them");
        _executions.Should().HaveCount(agents.Count).And.OnlyContain(e => e.Value == 1);
    }

    [PostgresFact]
    public async Task NodeTheTaskServerPolls_DiesMidTask_TheTaskServerGoesOnWithTheOther_NothingLostOrRunTwice()
    {
        var agents = await StartAsync(agents: 3, agentsNode: () => _a);
        var first = await _a.PushThroughTaskServersAsync(TestTasks.Sleep(2, [.. agents.Select(a => a.Id)]));
        await WaitForActionAsync(_a, first.ActionId, s => s.Counts["running"] + s.Counts["succeeded"] == agents.Count, "every agent to run the task");

        await _b.StopAsync(new CancellationToken(canceled: true));
        var second = await _a.PushThroughTaskServersAsync(TestTasks.Echo("after node b died", [.. agents.Select(a => a.Id)]));

        foreach (var actionId in new[] { first.ActionId, second.ActionId })
        {
            var status = await WaitForActionAsync(_a, actionId, s => s.Counts["succeeded"] == agents.Count, "every result, through node A");
            status.Targets.Should().OnlyContain(t => t.ResultCount == 1);
            Scalar($"SELECT COUNT(*) FROM results WHERE ref_id='{actionId}'").Should().Be(agents.Count);
        }

        _executions.Should().HaveCount(2 * agents.Count).And.OnlyContain(e => e.Value == 1, "no agent ran a task twice");
        (await WaitForTaskServersOnlineAsync(_a, 1)).Single().RegisteredAgents.Should().Be(agents.Count, "the Task Server told node A every agent it holds");
    }

    [PostgresFact]
    public async Task AgentMovesFromATaskServerOnAToOneOnB_TheOneItLeftReleasesItWhenBack_AndTheNextTaskGoesToTheNewOneAlone()
    {
        await StartNodesAsync();
        var tsA = Own(await TaskServerHost.StartAsync(Output, _a, "ts-a", configure: o => o.NotificationServerUrl = _a.BaseUrl));
        var tsB = Own(await TaskServerHost.StartAsync(Output, _b, "ts-b", configure: o => o.NotificationServerUrl = _b.BaseUrl));
        await Eventually.WaitAsync(ct => _a.ListTaskServersAsync(ct), l => l.Count == 2 && l.All(t => t.Address is { } a && !a.EndsWith(":0", StringComparison.Ordinal)), Deadline,
            "node A to know both Task Servers' addresses");
        using (var response = await _a.Admin.PutAsJsonAsync($"{TcmPaths.Admin}/task-servers/selection", new TaskServerSelectionSettings
        {
            Selection = TaskServerSelection.OrderedList,
            OrderedBySite = new Dictionary<string, IReadOnlyList<string>> { ["*"] = [tsA.Info.Id, tsB.Info.Id] },
        }, ProtocolJsonContext.Default.TaskServerSelectionSettings))
        {
            response.EnsureSuccessStatusCode();
        }

        var (agent, id) = (await StartAgentsAsync(1, _a)).Single();
        agent.GetNetworkStatus().TaskServer!.ServerAddress.Should().Be(tsA.Info.Address, "ts-a is first in the ordered list");

        await tsA.KillAsync();
        await Eventually.WaitAsync(() => agent.GetNetworkStatus().TaskServer, s => s?.ServerAddress == tsB.Info.Address && s.Transport == TransportKind.Persistent, Deadline,
            "the agent to move to ts-b");
        await WaitForTaskServersAsync(_b, l => l.Single(t => t.Name == "ts-b").RegisteredAgents == 1, "node B to count the agent at ts-b");
        await tsA.StartAsync();
        await Eventually.WaitAsync(() => tsA.Info.RegisteredAgents, n => n == 0, Deadline, "ts-a, back, to release the agent that moved to ts-b");

        var action = await _a.PushThroughTaskServersAsync(TestTasks.Echo("at ts-b", id));
        var target = (await WaitForStateAsync(_a, action.ActionId, TaskState.Succeeded)).Targets.Single();
        target.ResultCount.Should().Be(1);
        Scalar($"SELECT COUNT(*) FROM ts_tasks WHERE action_id='{action.ActionId}' AND accepted_by='{tsB.Info.Id}'").Should().Be(1);
        tsA.Services.GetRequiredService<Tcm.TaskServer.Store.TsStore>().Query("SELECT COUNT(*) FROM pushes WHERE action_id=@p0", r => r.GetInt64(0), action.ActionId)
            .Single().Should().Be(0, "the Task Server the agent left was not given its task");
        agent.GetNetworkStatus().TaskServer!.ServerAddress.Should().Be(tsB.Info.Address);
    }

    /// <summary>
    /// Starts node A and node B on one new database, the Task Server <c>ts1</c> (created and registered on node B, calling B, then A),
    /// and <paramref name="agents"/> agents installed from <paramref name="agentsNode"/>'s package (<see cref="StartAgentsAsync"/>), which
    /// node B counts at the Task Server.
    /// </summary>
    private async Task<List<(TcmAgent Agent, string Id)>> StartAsync(int agents, Func<NotificationServerHost> agentsNode)
    {
        await StartNodesAsync();
        _ts = Own(await TaskServerHost.StartAsync(Output, _b, "ts1", configure: o => o.NotificationServerUrl = $"{_b.BaseUrl},{_a.BaseUrl}"));
        await WaitForTaskServersOnlineAsync(_b, 1);
        await Eventually.WaitAsync(ct => _a.ListTaskServersAsync(ct), l => l.Single().Address is { } a && !a.EndsWith(":0", StringComparison.Ordinal), Deadline, "node A to know the Task Server's address");
        var started = await StartAgentsAsync(agents, agentsNode());
        await WaitForTaskServersAsync(_b, l => l.Single().RegisteredAgents == agents, "node B to count the agents the Task Server holds");
        return started;
    }

    /// <summary>Starts node A and node B on one new database (and one data folder), dropped after the test.</summary>
    private async Task StartNodesAsync()
    {
        var folder = TestFolders.NewPath("ts-nodes");
        Own(new DroppedWithTheFolder(folder));
        _a = Own(await StartNodeAsync("node-a", folder));
        _b = Own(await StartNodeAsync("node-b", folder));
    }

    /// <summary>Starts <paramref name="count"/> agents installed from <paramref name="node"/>'s package, each once its Client Task Agent holds its channel.</summary>
    private async Task<List<(TcmAgent Agent, string Id)>> StartAgentsAsync(int count, NotificationServerHost node)
    {
        var started = new List<(TcmAgent Agent, string Id)>();
        var package = await node.Info.CreateInstallPackageAsync();
        for (var i = 0; i < count; i++)
        {
            var name = $"PC-N{i}";
            var agent = await StartAgentAsync(RealAgents.Options(package, name), executor: new CountingExecutor(new BuiltInTaskExecutor(), name, _executions));
            started.Add((agent, await RealAgents.WaitForIdAsync(agent)));
            await Eventually.WaitAsync(() => agent.GetNetworkStatus().TaskServer, s => s?.Transport == TransportKind.Persistent, Deadline, $"{name}'s Client Task Agent to hold its channel");
        }

        return started;
    }

    private async Task<NotificationServerHost> StartNodeAsync(string name, string folder)
    {
        var node = await NotificationServerHost.StartAsync(Output, tcmEnabled: true, configure: o => o.NodeName = name, dataDirectory: folder, store: StoreKind.PostgreSql);
        var signal = (PostgresNodeSignal)node.Services.GetRequiredService<INodeSignal>();
        await Eventually.WaitAsync(() => signal.Listens >= 1, $"{name} to listen for the other node's signals");
        return node;
    }

    /// <summary>One count from the database both nodes share (read through node A's connection string: node B may be down).</summary>
    private long Scalar(string sql)
    {
        using var connection = _a.OpenStore();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Deletes the nodes' data folder, and with it their database, after both stopped.</summary>
    private sealed class DroppedWithTheFolder(string folder) : IDisposable
    {
        public void Dispose() => TestFolders.TryDelete(folder);
    }
}
