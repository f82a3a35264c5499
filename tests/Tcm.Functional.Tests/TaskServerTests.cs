using System.Collections.Concurrent;
using Tcm.Agent.Network;
using Tcm.Agent.Tasks;
using Tcm.Hosting.Listeners;

namespace Tcm.Functional.Tests;

/// <summary>
/// A real Notification Server, two real Task Servers and real agents (Tcm.Agent over OsNetwork): tasks through the Task Servers,
/// fail-over when a Task Server dies or is full, and results that survive an unreachable NS.
/// </summary>
public sealed class TaskServerTests(ITestOutputHelper output) : SystemTest(output)
{
    private readonly ConcurrentDictionary<string, int> _executions = new();
    private NotificationServerHost _ns = null!;

    public override async Task InitializeAsync() => _ns = await StartNotificationServerAsync();

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
        await WaitForTaskServersAsync(_ns, l => l.Sum(t => t.RegisteredAgents) == 2, "both agents to be held by a Task Server");

        // why a sleep: an echo can complete in the millisecond it was delivered, and the two times must be told apart below.
        var action = await _ns.PushThroughTaskServersAsync(TestTasks.Sleep(0.05, persistentId, httpId));
        // why the deliveries waited for too: over HTTP an agent acknowledges a task with its next poll, which can come after its result.
        var status = await WaitForActionAsync(
            action.ActionId, s => s.Counts["succeeded"] == 2 && s.Targets.All(t => t.DeliveredVia is not null), "both agents to succeed and their deliveries to be recorded");

        action.Kind.Should().Be(TaskServerActionKinds.TsTask);
        var viaChannel = status.Targets.Single(t => t.AgentId == persistentId);
        viaChannel.DeliveredVia.Should().Be("persistent");
        viaChannel.DeliveredAt.Should().BeBefore(viaChannel.CompletedAt!.Value, "the acknowledgement's own time travels with the result (not the completion's)");
        viaChannel.Output.Should().Be("slept 0.05 s");
        viaChannel.ResultCount.Should().Be(1);
        var viaPoll = status.Targets.Single(t => t.AgentId == httpId);
        viaPoll.DeliveredVia.Should().Be("http");
        viaPoll.ResultCount.Should().Be(1);
        persistent.GetNetworkStatus().TaskServer!.Transport.Should().Be(TransportKind.Persistent);
        httpOnly.GetNetworkStatus().TaskServer!.Transport.Should().Be(TransportKind.Http);
        persistent.GetNetworkStatus().Transport.Should().Be(TransportKind.Persistent, "the core agent keeps its own channel to the NS");
    }

    [Fact]
    public async Task TaskThroughATaskServer_PastItsNotAfter_IsNotRunByTheAgent_WhichReportsExpired()
    {
        await StartTaskServersAsync(("ts-a", 5000));
        var agent = await StartAgentAsync("PC-LATE");
        var id = await RealAgents.WaitForIdAsync(agent);
        await WaitForTaskServerTransportAsync(agent, TransportKind.Persistent);

        var action = await _ns.PushThroughTaskServersAsync(TestTasks.Echo("too late", id) with { NotAfter = DateTimeOffset.UtcNow.AddSeconds(-1) });

        // The Task Server carries the not-after in its task.push: the agent reports without running the echo.
        var target = (await WaitForActionAsync(action.ActionId, s => s.Targets.Single().ResultCount == 1, "the agent's result")).Targets.Single();
        target.State.Should().Be(TaskState.Expired);
        target.Output.Should().StartWith("not run");
    }

    [Fact]
    public async Task CancelOfATaskATaskServerHolds_IsForwardedAndDisarmedThere_SoAPollerBackLaterDoesNotRunIt()
    {
        var ts = (await StartTaskServersAsync(("ts-a", 5000)))[0];
        await _ns.SetTcmEnabledAsync(false);
        var package = await _ns.Info.CreateInstallPackageAsync();
        var state = new Tcm.Agent.State.InMemoryAgentStateStore();
        var executor = new CountingExecutor(new BuiltInTaskExecutor(), "PC-TS-AWAY", _executions);
        string id;
        await using (var first = await RealAgents.StartAsync(RealAgents.Options(package, "PC-TS-AWAY", TimeSpan.FromHours(1)), Output, executor: executor, state: state))
        {
            id = await RealAgents.WaitForIdAsync(first);
            await WaitForTaskServersAsync(_ns, l => l.Sum(t => t.RegisteredAgents) == 1, "the agent to be held by the Task Server");
        }

        var action = await _ns.PushThroughTaskServersAsync(TestTasks.Echo("never", id));
        var nsStore = _ns.Services.GetRequiredService<Tcm.NotificationServer.Store.TcmStore>();
        await Eventually.WaitAsync(
            () => nsStore.Query("SELECT COUNT(*) FROM ts_tasks WHERE action_id=@p0 AND accepted_by IS NOT NULL", r => r.GetInt32(0), action.ActionId).Single() == 1,
            Deadline, "the Task Server to accept the task");
        using (var response = await _ns.Admin.PostAsync($"{TcmPaths.Admin}/actions/{action.ActionId}/cancel", null))
        {
            (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ActionCancelled)).Should()
                .Be(new ActionCancelled(action.ActionId, Cancelled: 1, CancelsSent: 1, Running: 0), "the cancel went to the Task Server");
        }

        var tsStore = ts.Services.GetRequiredService<Tcm.TaskServer.Store.TsStore>();
        await Eventually.WaitAsync(
            () => tsStore.Query("SELECT payload FROM pushes WHERE action_id=@p0", r => (byte[])r.GetValue(0), action.ActionId)
                .Select(p => ((TaskPushMessage)MessageCodec.Decode(p).Message!).NotAfter).SingleOrDefault() is not null,
            Deadline, "the Task Server to disarm its stored push");
        Own(await RealAgents.StartAsync(RealAgents.Options(package, "PC-TS-AWAY", TimeSpan.FromMilliseconds(300)), Output, executor: executor, state: state));

        var target = (await WaitForActionAsync(action.ActionId, s => s.Targets.Single().ResultCount == 1, "the agent's result")).Targets.Single();
        target.State.Should().Be(TaskState.Cancelled);
        target.Output.Should().StartWith("not run");
        _executions.Should().BeEmpty("the agent did not run the cancelled task");
    }

    [Fact]
    public async Task TaskServerKilledMidTask_ItsAgentsFailOverToTheOther_NoResultLostOrDuplicated()
    {
        var servers = await StartTaskServersAsync(("ts-a", 5000), ("ts-b", 5000));
        var (tsA, tsB) = (servers[0], servers[1]);
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

        var action = await _ns.PushThroughTaskServersAsync(TestTasks.Sleep(2, [.. agents.Select(a => a.Id)]));
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
        var started = await StartTaskServersAsync(("ts-full", 1), ("ts-other", 5000));
        var (full, other) = (started[0], started[1]);
        // An ordered list with the full one first, so the second agent is refused instead of avoiding it.
        await PutSelectionAsync(new TaskServerSelectionSettings
        {
            Selection = TaskServerSelection.OrderedList,
            OrderedBySite = new Dictionary<string, IReadOnlyList<string>> { ["*"] = [full.Info.Id, other.Info.Id] },
        });

        var first = await StartAgentAsync("PC-L1");
        await WaitForTaskServerTransportAsync(first, TransportKind.Persistent);
        first.GetNetworkStatus().TaskServer!.ServerAddress.Should().Be(full.Info.Address);

        var second = await StartAgentAsync("PC-L2");
        var secondId = await RealAgents.WaitForIdAsync(second);
        await Eventually.WaitAsync(() => second.GetNetworkStatus().TaskServer, s => s?.ServerAddress == other.Info.Address && s.Transport == TransportKind.Persistent,
            Deadline, "the second agent to fail over to the other Task Server");

        full.Info.RegisteredAgents.Should().Be(1);
        other.Info.IsConnected(secondId).Should().BeTrue();
        var servers = await WaitForTaskServersAsync(_ns, l => l.Single(t => t.Name == "ts-other").RegisteredAgents == 1, "the NS to count the agent at ts-other");
        servers.Single(t => t.Name == "ts-full").RegisteredAgents.Should().Be(1);
        servers.Single(t => t.Name == "ts-full").MaxAgents.Should().Be(1);
    }

    [Fact]
    public async Task FastestConnection_EachAgentTakesTheTaskServerItConnectsToFastest_NotTheFirstListedNorTheOneWithFewestComputers()
    {
        // Listed by name: ts-a-far first. Every agent here reaches it over a slow link (half a second more per connect).
        var started = await StartTaskServersAsync(("ts-a-far", 5000), ("ts-b-near", 5000));
        var (far, near) = (started[0], started[1]);
        await PutSelectionAsync(new TaskServerSelectionSettings { Selection = TaskServerSelection.FastestConnection });
        var farPort = new Uri("https://" + far.Info.Address).Port;
        var nearPort = new Uri("https://" + near.Info.Address).Port;
        var links = new SlowLinks(new Dictionary<int, TimeSpan> { [farPort] = TimeSpan.FromMilliseconds(500) });

        var first = await StartAgentAsync("PC-FAST-1", network: links);
        await WaitForTaskServerTransportAsync(first, TransportKind.Persistent);
        first.GetNetworkStatus().TaskServer!.ServerAddress.Should().Be(near.Info.Address, "an ordered list or fewest computers would take ts-a-far, first by name");
        await WaitForTaskServersAsync(_ns, l => l.Single(t => t.Name == "ts-b-near").RegisteredAgents == 1, "the NS to count the first agent at ts-b-near");

        // ts-b-near now has more computers than ts-a-far: fewest computers would send the second agent there, its connect time does not.
        var second = await StartAgentAsync("PC-FAST-2", network: links);
        await WaitForTaskServerTransportAsync(second, TransportKind.Persistent);
        second.GetNetworkStatus().TaskServer!.ServerAddress.Should().Be(near.Info.Address);

        var probes = links.Connects.Where(c => c.Purpose == TrafficPurpose.Probe && c.Port != _ns.Port).Select(c => c.Port).ToList();
        probes.Should().BeEquivalentTo([farPort, nearPort, farPort, nearPort], "each agent measured each Task Server once");
        links.Connects.Should().NotContain((farPort, TrafficPurpose.TaskServer), "no agent connected to the slow Task Server");
        far.Info.RegisteredAgents.Should().Be(0);
    }

    [Fact]
    public async Task TaskServerWithNoUpgradePlace_TellsTheAgentToComeBack_ThenWelcomesIt_AndGivesThePlaceBack()
    {
        var ts = Own(await TaskServerHost.StartAsync(Output, _ns, "ts-busy", configure: o => o.Admission = new AdmissionOptions
        {
            MaxConcurrentUpgrades = 1,
            MaxQueued = 0,
            QueueTimeout = TimeSpan.FromSeconds(1),
        }));
        await WaitForTaskServersOnlineAsync(_ns, 1);
        var upgrades = ts.Services.GetRequiredService<ServerAdmission>().Upgrades;
        (await upgrades.EnterAsync(default)).Should().Be(AdmissionOutcome.Admitted, "the test holds the only place, as a storm's first agent would");

        var agent = await StartAgentAsync("PC-BUSY");
        await Eventually.WaitAsync(() => upgrades.Refused, n => n >= 1, Deadline, "the Task Server to answer the channel server-busy");
        agent.GetNetworkStatus().TaskServer?.Transport.Should().NotBe(TransportKind.Persistent);
        upgrades.Exit(finished: true);

        await WaitForTaskServerTransportAsync(agent, TransportKind.Persistent);
        await Eventually.WaitAsync(() => upgrades.Active, n => n == 0, Deadline, "the welcomed channel to give its place back");
        upgrades.Finished.Should().BeGreaterThanOrEqualTo(2, "the test's place and the agent's welcome");
        agent.Counters.Refusals.Should().Be(0, "a busy server's hint is not a refusal of the channel");
    }

    [Fact]
    public async Task NotificationServerDownWhileResultsComeIn_TheyArriveOnceWhenItReturns()
    {
        var ts = (await StartTaskServersAsync(("ts-s", 5000))).Single();
        var agent = await StartAgentAsync("PC-S");
        var id = await RealAgents.WaitForIdAsync(agent);
        await WaitForTaskServerTransportAsync(agent, TransportKind.Persistent);

        var action = await _ns.PushThroughTaskServersAsync(TestTasks.Sleep(1.5, id));
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
        var ts = (await StartTaskServersAsync(("ts-m", 5000)))[0];
        using var anonymous = ts.CreateAdminClient(sendKey: false);
        (await anonymous.GetAsync("/metrics")).StatusCode.Should().Be(System.Net.HttpStatusCode.Unauthorized);
        (await anonymous.GetAsync("/tcm/admin/diagnostics/process")).StatusCode.Should().Be(System.Net.HttpStatusCode.Unauthorized);
        using var admin = ts.CreateAdminClient();
        var before = await PrometheusScrape.ScrapeAsync(admin);

        var agent = await StartAgentAsync("PC-METRICS");
        var agentId = await RealAgents.WaitForIdAsync(agent);
        await WaitForTaskServerTransportAsync(agent, TransportKind.Persistent);
        var action = await _ns.PushThroughTaskServersAsync(TestTasks.Echo("measured", agentId));
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

    /// <summary>Starts the Task Servers (name, most agents) and waits until the NS lists them online.</summary>
    private async Task<IReadOnlyList<TaskServerHost>> StartTaskServersAsync(params (string Name, int Max)[] servers)
    {
        var started = new List<TaskServerHost>();
        foreach (var (name, max) in servers)
        {
            started.Add(Own(await TaskServerHost.StartAsync(Output, _ns, name, max)));
        }

        await WaitForTaskServersOnlineAsync(_ns, servers.Length);
        return started;
    }

    private async Task PutSelectionAsync(TaskServerSelectionSettings selection)
    {
        using var response = await _ns.Admin.PutAsJsonAsync("/tcm/admin/task-servers/selection", selection, ProtocolJsonContext.Default.TaskServerSelectionSettings);
        response.EnsureSuccessStatusCode();
    }

    private Task<ActionStatus> WaitForActionAsync(string actionId, Func<ActionStatus, bool> condition, string what) =>
        WaitForActionAsync(_ns, actionId, condition, what);

    private static Task WaitForTaskServerTransportAsync(TcmAgent agent, TransportKind transport) =>
        Eventually.WaitAsync(() => agent.GetNetworkStatus().TaskServer, s => s?.Transport == transport, Deadline, $"the Client Task Agent to be {transport}");

    private async Task<TcmAgent> StartAgentAsync(string computerName, TimeSpan? poll = null, INetwork? network = null)
    {
        var package = await _ns.Info.CreateInstallPackageAsync();
        var options = RealAgents.Options(package, computerName, poll);
        return await StartAgentAsync(options, network, executor: new CountingExecutor(new BuiltInTaskExecutor(), computerName, _executions));
    }
}
