using System.Collections.Concurrent;
using System.Net.Http.Json;
using Tcm.Agent;
using Tcm.Agent.Tasks;
using Tcm.Functional.Tests.Infrastructure;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Functional.Tests;

/// <summary>
/// A real Notification Server, two real Task Servers and real agents (Tcm.Agent over OsNetwork): tasks through the Task Servers,
/// fail-over when a Task Server dies or is full, and results that survive an unreachable NS.
/// </summary>
public sealed class TaskServerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly List<TcmAgent> _agents = [];
    private readonly List<TaskServerHost> _taskServers = [];
    private readonly ConcurrentDictionary<string, int> _executions = new();
    private NotificationServerHost _ns = null!;

    public async Task InitializeAsync() => _ns = await NotificationServerHost.StartAsync(output, tcmEnabled: true);

    public async Task DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }

        foreach (var ts in _taskServers)
        {
            await ts.DisposeAsync();
        }

        await _ns.DisposeAsync();
    }

    [Fact]
    public async Task TaskThroughTaskServers_ReachesPersistentAgentsOverTheirChannel_AndHttpOnlyAgentsAtTheirNextPoll()
    {
        await StartTaskServersAsync(("ts-a", 5000), ("ts-b", 5000));
        await _ns.PutProfileAsync(new CommunicationProfile
        {
            Id = "http-only",
            Name = "HTTP only",
            Priority = 1,
            PersistentConnection = false,
            Targets = new Targets { Agents = ["PC-HTTP"] },
        });

        // Polls once an hour: a task done within the deadline came over the Task Server channel.
        var persistent = await StartAgentAsync("PC-PUSH");
        var httpOnly = await StartAgentAsync("PC-HTTP", poll: TimeSpan.FromMilliseconds(500));
        var persistentId = await RealAgents.WaitForIdAsync(persistent);
        var httpId = await RealAgents.WaitForIdAsync(httpOnly);
        await WaitForTaskServerTransportAsync(persistent, TransportKind.Persistent);
        await Eventually.WaitAsync(ListTaskServersAsync, l => l.Sum(t => t.RegisteredAgents) == 2, Deadline, "both agents to be held by a Task Server");

        var action = await PushThroughTaskServersAsync(Echo("through the task server", persistentId, httpId));
        var status = await WaitForActionAsync(action.ActionId, s => s.Counts["succeeded"] == 2, "both agents to succeed");

        action.Kind.Should().Be(TaskServerActionKinds.TsTask);
        var viaChannel = status.Targets.Single(t => t.AgentId == persistentId);
        viaChannel.DeliveredVia.Should().Be("persistent");
        viaChannel.Output.Should().Be("through the task server");
        viaChannel.ResultCount.Should().Be(1);
        var viaPoll = status.Targets.Single(t => t.AgentId == httpId);
        viaPoll.DeliveredVia.Should().Be("http");
        viaPoll.ResultCount.Should().Be(1);
        persistent.GetNetworkStatus().TaskServer!.Transport.Should().Be(TransportKind.Persistent);
        httpOnly.GetNetworkStatus().TaskServer!.Transport.Should().Be(TransportKind.Http);
        persistent.GetNetworkStatus().Transport.Should().Be(TransportKind.Persistent, "the core agent keeps its own channel to the NS");
    }

    [Fact]
    public async Task TaskServerKilledMidTask_ItsAgentsFailOverToTheOther_NoResultLostOrDuplicated()
    {
        var (tsA, tsB) = await StartTwoAsync();
        var agents = new List<(TcmAgent Agent, string Id)>();
        for (var i = 0; i < 3; i++)
        {
            var agent = await StartAgentAsync($"PC-F{i}");
            agents.Add((agent, await RealAgents.WaitForIdAsync(agent)));
        }

        foreach (var (agent, _) in agents)
        {
            await WaitForTaskServerTransportAsync(agent, TransportKind.Persistent);
        }

        // Make sure the killed one holds someone: the first agent is on ts-a or ts-b; kill whichever holds it.
        var victimAddress = agents[0].Agent.GetNetworkStatus().TaskServer!.ServerAddress;
        var (victim, survivor) = victimAddress == tsA.Info.Address ? (tsA, tsB) : (tsB, tsA);
        var onVictim = agents.Where(a => a.Agent.GetNetworkStatus().TaskServer!.ServerAddress == victim.Info.Address).Select(a => a.Id).ToList();
        onVictim.Should().NotBeEmpty();

        var action = await PushThroughTaskServersAsync(new PushTaskRequest
        {
            Command = "sleep",
            Parameters = new Dictionary<string, string> { ["seconds"] = "2" },
            Targets = new Targets { Agents = [.. agents.Select(a => a.Id)] },
        });
        await WaitForActionAsync(action.ActionId, s => s.Counts["running"] + s.Counts["succeeded"] == agents.Count, "every agent to run the task");

        await victim.KillAsync();

        var status = await WaitForActionAsync(action.ActionId, s => s.Counts["succeeded"] == agents.Count, "every result, through the surviving Task Server");
        status.Targets.Should().OnlyContain(t => t.ResultCount == 1);
        _executions.Values.Should().OnlyContain(count => count == 1, "no agent ran the task twice");
        _executions.Should().HaveCount(agents.Count);
        foreach (var (agent, id) in agents.Where(a => onVictim.Contains(a.Id)))
        {
            await Eventually.WaitAsync(() => agent.GetNetworkStatus().TaskServer, s => s?.ServerAddress == survivor.Info.Address && s.Transport == TransportKind.Persistent,
                Deadline, $"agent {id} to hold a channel to {survivor.Name}");
        }
    }

    [Fact]
    public async Task TaskServerAtItsLimit_RefusesTheNextAgent_WhichGoesToTheOther()
    {
        var full = await TaskServerHost.StartAsync(output, _ns, "ts-full", maxAgents: 1);
        _taskServers.Add(full);
        var other = await TaskServerHost.StartAsync(output, _ns, "ts-other");
        _taskServers.Add(other);
        await WaitForOnlineAsync(2);
        // An ordered list with the full one first, so the second agent is refused instead of avoiding it.
        var response = await _ns.Admin.PutAsJsonAsync("/tcm/admin/task-servers/selection", new TaskServerSelectionSettings
        {
            Selection = TaskServerSelection.OrderedList,
            OrderedBySite = new Dictionary<string, IReadOnlyList<string>> { ["*"] = [full.Info.Id, other.Info.Id] },
        }, ProtocolJsonContext.Default.TaskServerSelectionSettings);
        response.EnsureSuccessStatusCode();

        var first = await StartAgentAsync("PC-L1");
        await WaitForTaskServerTransportAsync(first, TransportKind.Persistent);
        first.GetNetworkStatus().TaskServer!.ServerAddress.Should().Be(full.Info.Address);

        var second = await StartAgentAsync("PC-L2");
        var secondId = await RealAgents.WaitForIdAsync(second);
        await Eventually.WaitAsync(() => second.GetNetworkStatus().TaskServer, s => s?.ServerAddress == other.Info.Address && s.Transport == TransportKind.Persistent,
            Deadline, "the second agent to fail over to the other Task Server");

        full.Info.RegisteredAgents.Should().Be(1);
        other.Info.IsConnected(secondId).Should().BeTrue();
        var servers = await Eventually.WaitAsync(ListTaskServersAsync, l => l.Single(t => t.Name == "ts-other").RegisteredAgents == 1, Deadline, "the NS to count the agent at ts-other");
        servers.Single(t => t.Name == "ts-full").RegisteredAgents.Should().Be(1);
        servers.Single(t => t.Name == "ts-full").MaxAgents.Should().Be(1);
    }

    [Fact]
    public async Task NotificationServerDownWhileResultsComeIn_TheyArriveOnceWhenItReturns()
    {
        await StartTaskServersAsync(("ts-s", 5000));
        var ts = _taskServers[0];
        var agent = await StartAgentAsync("PC-S");
        var id = await RealAgents.WaitForIdAsync(agent);
        await WaitForTaskServerTransportAsync(agent, TransportKind.Persistent);

        var action = await PushThroughTaskServersAsync(new PushTaskRequest
        {
            Command = "sleep",
            Parameters = new Dictionary<string, string> { ["seconds"] = "1.5" },
            Targets = new Targets { Agents = [id] },
        });
        await WaitForActionAsync(action.ActionId, s => s.Counts["running"] == 1, "the agent to run the task");

        await _ns.StopAsync();
        // The result reaches the Task Server, which keeps it while the NS is away.
        await Eventually.WaitAsync(() => ts.Info.PendingForwards, n => n >= 1, Deadline, "the result to wait in the Task Server's outbox");
        ts.Info.NotificationServerReachable.Should().BeFalse();

        await _ns.StartAsync();
        var status = await WaitForActionAsync(action.ActionId, s => s.Counts["succeeded"] == 1, "the result to arrive after the NS returned");
        status.Targets.Single().ResultCount.Should().Be(1);
        await Eventually.WaitAsync(() => ts.Info.PendingForwards, n => n == 0, Deadline, "the outbox to drain");
    }

    [Fact]
    public async Task TaskServerMetrics_BehindItsAdminKey_ShowTheChannelPushAckResultAndLatencyMoving_AndProcessDiagnosticsAnswer()
    {
        await StartTaskServersAsync(("ts-m", 5000));
        var ts = _taskServers[0];
        using var anonymous = ts.CreateAdminClient(sendKey: false);
        (await anonymous.GetAsync("/metrics")).StatusCode.Should().Be(System.Net.HttpStatusCode.Unauthorized);
        (await anonymous.GetAsync("/tcm/admin/diagnostics/process")).StatusCode.Should().Be(System.Net.HttpStatusCode.Unauthorized);
        using var admin = ts.CreateAdminClient();
        var before = await PrometheusScrape.ScrapeAsync(admin);

        var agent = await StartAgentAsync("PC-METRICS");
        var agentId = await RealAgents.WaitForIdAsync(agent);
        await WaitForTaskServerTransportAsync(agent, TransportKind.Persistent);
        var action = await PushThroughTaskServersAsync(Echo("measured", agentId));
        await WaitForActionAsync(action.ActionId, s => s.Counts["succeeded"] == 1, "the agent to succeed");

        var after = await Eventually.WaitAsync(
            ct => PrometheusScrape.ScrapeAsync(admin, ct),
            s => s.Sum("tcm_ts_delivery_latency_milliseconds_count") > before.Sum("tcm_ts_delivery_latency_milliseconds_count") && s.Sum("tcm_ts_results_received_total") > 0,
            Deadline, "the Task Server's delivery to show in /metrics");
        after.Sum("tcm_ts_connections_opened_total", "route=\"direct\"").Should().BeGreaterThan(before.Sum("tcm_ts_connections_opened_total"));
        after.Sum("tcm_ts_connections", "route=\"direct\"").Should().Be(1);
        after.Sum("tcm_ts_pushes_sent_total").Should().BeGreaterThan(before.Sum("tcm_ts_pushes_sent_total"));
        after.Sum("tcm_ts_acks_total").Should().BeGreaterThan(before.Sum("tcm_ts_acks_total"));
        after.Has("tcm_ts_pushes_queued").Should().BeTrue();
        after.Sum("tcm_store_commit_duration_seconds_count", "store=\"ts\"").Should().BeGreaterThan(before.Sum("tcm_store_commit_duration_seconds_count", "store=\"ts\""));

        var process = (await admin.GetFromJsonAsync("/tcm/admin/diagnostics/process", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64))!;
        process["process.id"].Should().Be(Environment.ProcessId);
        process["channels.live"].Should().Be(1);
        process["channels.accepted"].Should().BeGreaterThanOrEqualTo(1);
        process["connections.tcp"].Should().BeGreaterThanOrEqualTo(1);
    }

    private async Task<(TaskServerHost A, TaskServerHost B)> StartTwoAsync()
    {
        await StartTaskServersAsync(("ts-a", 5000), ("ts-b", 5000));
        return (_taskServers[0], _taskServers[1]);
    }

    private async Task StartTaskServersAsync(params (string Name, int Max)[] servers)
    {
        foreach (var (name, max) in servers)
        {
            _taskServers.Add(await TaskServerHost.StartAsync(output, _ns, name, max));
        }

        await WaitForOnlineAsync(servers.Length);
    }

    /// <summary>Every Task Server reported its bound address and holds its long poll: policies list it correctly from now on.</summary>
    private Task WaitForOnlineAsync(int count) =>
        Eventually.WaitAsync(ListTaskServersAsync, l => l.Count == count && l.All(t => t.Online && t.Address is { } a && !a.EndsWith(":0", StringComparison.Ordinal)),
            Deadline, "the Task Servers to be online at the NS");

    private async Task<IReadOnlyList<TaskServerInfoView>> ListTaskServersAsync() =>
        (await _ns.Admin.GetFromJsonAsync("/tcm/admin/task-servers", ProtocolJsonContext.Default.IReadOnlyListTaskServerInfoView))!;

    private async Task<ActionCreated> PushThroughTaskServersAsync(PushTaskRequest request)
    {
        var response = await _ns.Admin.PostAsJsonAsync("/tcm/admin/actions/ts-task", request, ProtocolJsonContext.Default.PushTaskRequest);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ActionCreated))!;
    }

    private Task<ActionStatus> WaitForActionAsync(string actionId, Func<ActionStatus, bool> condition, string what) =>
        Eventually.WaitAsync(() => _ns.IsRunning ? _ns.GetActionAsync(actionId) : throw new InvalidOperationException("the NS is down"), condition, Deadline, what);

    private static Task WaitForTaskServerTransportAsync(TcmAgent agent, TransportKind transport) =>
        Eventually.WaitAsync(() => agent.GetNetworkStatus().TaskServer, s => s?.Transport == transport, TimeSpan.FromSeconds(30), $"the Client Task Agent to be {transport}");

    private static PushTaskRequest Echo(string text, params string[] agentIds) => new()
    {
        Command = "echo",
        Parameters = new Dictionary<string, string> { ["text"] = text },
        Targets = new Targets { Agents = agentIds },
    };

    private async Task<TcmAgent> StartAgentAsync(string computerName, TimeSpan? poll = null)
    {
        var package = await _ns.Info.CreateInstallPackageAsync();
        var options = RealAgents.Options(package, computerName, poll);
        var agent = await RealAgents.StartAsync(options, output, executor: new CountingExecutor(new BuiltInTaskExecutor(), computerName, _executions));
        _agents.Add(agent);
        return agent;
    }

    /// <summary>Counts how often each agent ran each task: "executed once" is measured, not assumed.</summary>
    private sealed class CountingExecutor(ITaskExecutor inner, string computerName, ConcurrentDictionary<string, int> executions) : ITaskExecutor
    {
        public ValueTask<TaskOutcome> ExecuteAsync(TaskPushMessage task, CancellationToken cancellationToken)
        {
            executions.AddOrUpdate($"{computerName}:{task.TaskId}", 1, (_, n) => n + 1);
            return inner.ExecuteAsync(task, cancellationToken);
        }

        public ValueTask<BasicInventory> CollectInventoryAsync(IReadOnlyList<string>? classes, CancellationToken cancellationToken) =>
            inner.CollectInventoryAsync(classes, cancellationToken);
    }
}
