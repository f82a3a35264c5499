namespace Tcm.Functional.Tests;

/// <summary>A real Notification Server on 127.0.0.1 and real agents: the persistent channel, its refusals and the HTTP fallback.</summary>
public sealed class ChannelAndFallbackTests(ITestOutputHelper output) : SystemTest(output)
{
    private NotificationServerHost _server = null!;

    [Fact]
    public async Task TcmOff_AgentPollsOverHttp_AndReceivesPushedTaskAtNextPoll()
    {
        _server = await StartNotificationServerAsync(tcmEnabled: false);
        var agent = await StartAgentAsync("PC-01", poll: TimeSpan.FromMilliseconds(500));
        var id = await RealAgents.WaitForIdAsync(agent);
        await WaitForHttpBecauseAsync(agent, CloseReasons.TcmDisabled);

        await EchoIsDoneOnceAsync(id, "over http", sentOverChannel: 0, deliveredVia: "http");
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task TcmOn_PushedTaskArrivesOverTheChannel_NotAtAPoll(string httpVersion)
    {
        // Polls once an hour: a task done within the deadline came over the channel.
        var (_, id) = await StartConnectedAgentAsync("PC-02", Version.Parse(httpVersion));

        await EchoIsDoneOnceAsync(id, "over the channel", sentOverChannel: 1, deliveredVia: "persistent");
        (await _server.GetAgentAsync(id)).Transport.Should().Be(TransportKind.Persistent);
    }

    [Fact]
    public async Task ServerStoppedMidTask_AgentFallsBack_AndTheResultArrivesExactlyOnceWhenItReturns()
    {
        var (agent, id) = await StartConnectedAgentAsync("PC-03");

        var action = await _server.PushTaskAsync(TestTasks.Sleep(2, id));
        await WaitForTargetAsync(action.ActionId, TaskState.Running);

        await _server.StopAsync();
        await WaitForTransportAsync(agent, TransportKind.Http);
        // The task finishes while the server is down; its result must wait in the agent, not vanish.
        await Eventually.WaitAsync(() => agent.PendingResults, n => n == 1, Deadline, "the result to be held by the agent");
        await _server.StartAsync();

        var target = await WaitForTargetAsync(action.ActionId, TaskState.Succeeded);
        target.ResultCount.Should().Be(1);
        await WaitForTransportAsync(agent, TransportKind.Persistent);
        var after = await _server.GetActionAsync(action.ActionId);
        after.Targets.Single().ResultCount.Should().Be(1);
    }

    [Fact]
    public async Task AgentOutsideTheProfileTargets_IsRefusedTheChannel_AndStillGetsTasksOverHttp()
    {
        _server = await StartNotificationServerAsync();
        var profile = await _server.GetDefaultProfileAsync();
        await _server.PutProfileAsync(profile with { Targets = new Targets { Rules = [new TargetRule("group", "pilot")] } });

        var pilot = await StartAgentAsync("PC-PILOT", attributes: new Dictionary<string, string> { ["group"] = "pilot" });
        var other = await StartAgentAsync("PC-SALES", poll: TimeSpan.FromMilliseconds(500), attributes: new Dictionary<string, string> { ["group"] = "sales" });
        var otherId = await RealAgents.WaitForIdAsync(other);

        await WaitForTransportAsync(pilot, TransportKind.Persistent);
        await WaitForHttpBecauseAsync(other, CloseReasons.NotTargeted);

        var action = await _server.PushTaskAsync(TestTasks.Echo("still delivered", otherId));
        var target = await WaitForTargetAsync(action.ActionId, TaskState.Succeeded);
        target.DeliveredVia.Should().Be("http");
    }

    [Fact]
    public async Task TurningTcmOn_MovesAPollingAgentToTheChannel_AndOff_MovesItBack()
    {
        _server = await StartNotificationServerAsync(tcmEnabled: false);
        var agent = await StartAgentAsync("PC-04", poll: TimeSpan.FromMilliseconds(500));
        await WaitForTransportAsync(agent, TransportKind.Http);

        await _server.SetTcmEnabledAsync(true);
        await WaitForTransportAsync(agent, TransportKind.Persistent);

        await _server.SetTcmEnabledAsync(false);
        await WaitForHttpBecauseAsync(agent, CloseReasons.TcmDisabled);
    }

    [Fact]
    public async Task TerminatePersistentConnection_AgentWorksOverHttp_ThenReturnsToTheChannel()
    {
        var (agent, _) = await StartConnectedAgentAsync("PC-05");
        var reconnectsBefore = agent.Counters.Reconnects;

        await agent.TerminatePersistentConnectionAsync(TimeSpan.FromMilliseconds(700));

        await WaitForTransportAsync(agent, TransportKind.Http);
        await WaitForTransportAsync(agent, TransportKind.Persistent);
        agent.Counters.Reconnects.Should().BeGreaterThan(reconnectsBefore);
    }

    [Fact]
    public async Task AdminTerminate_ClosesTheAgentsChannel()
    {
        var (agent, id) = await StartConnectedAgentAsync("PC-06");

        var response = await _server.Admin.PostAsync($"/tcm/admin/agents/{id}/terminate", content: null);

        response.StatusCode.Should().BeOneOf(HttpStatusCode.OK, HttpStatusCode.Accepted, HttpStatusCode.NoContent);
        await WaitForHttpBecauseAsync(agent, "terminate");
        (await Eventually.WaitAsync(() => _server.GetAgentAsync(id), a => !a.Connected, Deadline, "the server to see the channel closed")).Connected.Should().BeFalse();
    }

    [Fact]
    public async Task AgentStoppedWhileItCannotReachItsServer_StopsCleanly()
    {
        _server = await StartNotificationServerAsync();
        var package = await _server.Info.CreateInstallPackageAsync();
        await _server.StopAsync();
        await using var agent = new TcmAgent(
            new AgentOptions { Package = package, ComputerName = "PC-UNREACHABLE", StartJitter = TimeSpan.Zero, Backoff = new BackoffOptions { Initial = TimeSpan.FromMilliseconds(50), Max = TimeSpan.FromMilliseconds(200) } },
            new Tcm.Agent.Network.OsNetwork(),
            new Tcm.Agent.State.InMemoryAgentStateStore(),
            new Tcm.Agent.Tasks.BuiltInTaskExecutor(),
            TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        using var lifetime = new CancellationTokenSource();

        var starting = agent.StartAsync(lifetime.Token);
        await agent.StopAsync(CancellationToken.None);

        await starting.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(Deadline);
        starting.IsCompletedSuccessfully.Should().BeFalse("registration never succeeded");
        agent.AgentId.Should().BeNull();
        agent.GetNetworkStatus().Mode.Should().Be(ConnectionMode.Offline);
    }

    private async Task<TcmAgent> StartAgentAsync(string name, TimeSpan? poll = null, IReadOnlyDictionary<string, string>? attributes = null, Version? httpVersion = null)
    {
        var options = RealAgents.Options(await _server.Info.CreateInstallPackageAsync(), name, poll) with
        {
            Attributes = attributes,
            HttpVersion = httpVersion ?? HttpVersion.Version20,
        };
        return await StartAgentAsync(options);
    }

    /// <summary>Starts the server with TCM communication on and an agent, and waits until the agent holds its channel.</summary>
    private async Task<(TcmAgent Agent, string Id)> StartConnectedAgentAsync(string name, Version? httpVersion = null)
    {
        _server = await StartNotificationServerAsync();
        var agent = await StartAgentAsync(name, httpVersion: httpVersion);
        var id = await RealAgents.WaitForIdAsync(agent);
        await WaitForTransportAsync(agent, TransportKind.Persistent);
        return (agent, id);
    }

    private static Task<NetworkStatus> WaitForTransportAsync(TcmAgent agent, TransportKind transport) =>
        WaitForStatusAsync(agent, s => s.Transport == transport, $"transport {transport}");

    private async Task<ActionTargetStatus> WaitForTargetAsync(string actionId, TaskState state) =>
        (await WaitForStateAsync(_server, actionId, state)).Targets.Single();

    /// <summary>Pushes an echo of <paramref name="text"/> to the agent: it is done once, with its output, over the transport named.</summary>
    private async Task EchoIsDoneOnceAsync(string agentId, string text, int sentOverChannel, string deliveredVia)
    {
        var action = await _server.PushTaskAsync(TestTasks.Echo(text, agentId));
        var target = await WaitForTargetAsync(action.ActionId, TaskState.Succeeded);

        action.SentOverChannel.Should().Be(sentOverChannel);
        target.DeliveredVia.Should().Be(deliveredVia);
        target.Output.Should().Be(text);
        target.ResultCount.Should().Be(1);
    }
}
