using Microsoft.Extensions.DependencyInjection;

namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>
/// The server's side of expiry and cancel, with test agents: the not-after sweep, the cancel of targets not started and of running ones,
/// and an agent of today (its hello says nothing of <c>task.cancel</c>) that is never sent one.
/// </summary>
public sealed class CancelAndExpiryTests
{
    [Fact]
    public async Task PendingTarget_AtItsNotAfter_IsExpired_WithoutTheAgent()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();

        var created = await PushAsync(server, Echo(agent.Id) with { NotAfter = DateTimeOffset.UtcNow.AddMilliseconds(200) });

        var target = (await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Expired)).Targets.Single();
        target.ResultCount.Should().Be(0);
    }

    [Fact]
    public async Task Cancel_OfAPendingTarget_StoresItsPushAgainWithTheCancelAsItsNotAfter()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();
        var created = await PushAsync(server, Echo(agent.Id));

        var cancelled = await CancelAsync(server, created.ActionId);

        cancelled.Should().Be(new ActionCancelled(created.ActionId, Cancelled: 1, CancelsSent: 0, Running: 0));
        (await server.GetActionAsync(created.ActionId)).Targets.Single().State.Should().Be(TaskState.Cancelled);
        var handedOut = await agent.Http.GetFromJsonAsync($"{TcmPaths.Tasks}?after=0", ProtocolJsonContext.Default.PendingPushes);
        var push = handedOut!.Items.OfType<TaskPushMessage>().Should().ContainSingle().Subject;
        push.TaskId.Should().Be(created.ActionId);
        push.NotAfter.Should().NotBeNull().And.BeOnOrBefore(DateTimeOffset.UtcNow, "an agent that fetches it now does not run it");
    }

    [Fact]
    public async Task Cancel_OfARunningTask_SendsTaskCancel_ToAnAgentThatAcceptsIt()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();
        await using var channel = await agent.OpenAsync();
        await channel.SendAsync(new HelloMessage { ProtocolVersion = ProtocolConstants.Version, AgentId = agent.Id, AcceptsTaskCancel = true });
        await channel.ReceiveAsync<WelcomeMessage>();
        var (created, push) = await RunningAsync(server, agent, channel);

        var cancelled = await CancelAsync(server, created.ActionId);

        cancelled.Should().Be(new ActionCancelled(created.ActionId, Cancelled: 0, CancelsSent: 1, Running: 1));
        (await channel.ReceiveAsync<TaskCancelMessage>()).TaskId.Should().Be(push.TaskId);
        await channel.SendAsync(TestTasks.Succeeded(agent.Id, push, "stopped") with { State = TaskState.Cancelled });
        (await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Cancelled)).Targets.Single().Output.Should().Be("stopped");
    }

    [Fact]
    public async Task Cancel_OfARunningTask_SendsNothing_ToAnAgentOfToday_WhoseChannelCarriesOn()
    {
        await using var connected = await ConnectedAgent.StartAsync();
        var (server, agent, channel, _) = connected;
        var (created, push) = await RunningAsync(server, agent, channel);

        var cancelled = await CancelAsync(server, created.ActionId);
        var next = await PushAsync(server, Echo(agent.Id));

        cancelled.Should().Be(new ActionCancelled(created.ActionId, Cancelled: 0, CancelsSent: 0, Running: 1));
        // The next message on the channel is the next push: no task.cancel came before it, and the channel is open.
        (await channel.ReceiveAsync()).Should().BeOfType<TaskPushMessage>().Which.TaskId.Should().Be(next.ActionId);
        await channel.SendAsync(TestTasks.Succeeded(agent.Id, push, "finished"));
        (await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Succeeded)).Targets.Single().Output.Should().Be("finished");
    }

    [Fact]
    public async Task Cancel_OfATaskWaitingAtTheNsForATaskServer_WithdrawsIt()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();
        // No Task Server holds the agent: the task waits at the NS (table ts_tasks) for one to take it.
        var created = await server.AdminPostAsync("/actions/ts-task", Echo(agent.Id), ProtocolJsonContext.Default.PushTaskRequest, ProtocolJsonContext.Default.ActionCreated);
        var store = server.Services.GetRequiredService<Tcm.NotificationServer.Store.TcmStore>();
        int Waiting() => store.Query("SELECT COUNT(*) FROM ts_tasks WHERE action_id=@p0", r => r.GetInt32(0), created.ActionId).Single();
        Waiting().Should().Be(1);

        (await CancelAsync(server, created.ActionId)).Should().Be(new ActionCancelled(created.ActionId, Cancelled: 1, CancelsSent: 0, Running: 0));

        await Eventually.WaitAsync(() => Waiting() == 0, Eventually.DefaultDeadline, "the withdrawn task to leave the store");
        (await server.GetActionAsync(created.ActionId)).Targets.Single().State.Should().Be(TaskState.Cancelled);
    }

    [Fact]
    public async Task Cancel_OfAnUnknownAction_IsNotFound()
    {
        await using var server = await NotificationServerHost.StartAsync();

        using var response = await server.Admin.PostAsync($"{TcmPaths.Admin}/actions/nope/cancel", null);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TargetedSettings_WithAWindowThatIsNotATimeOfDay_AreRefused()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var settings = new TargetedAgentSettings
        {
            Name = "night",
            Settings = new AgentSettings { MaintenanceWindows = [new MaintenanceWindow { Start = "late", End = "04:00" }] },
        };

        using var response = await server.Admin.PostAsJsonAsync($"{TcmPaths.Admin}/agent-settings", settings, ProtocolJsonContext.Default.TargetedAgentSettings);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().Contain("settings.maintenanceWindows[0]");
    }

    /// <summary>Pushes an echo to <paramref name="agent"/>, which acknowledges it on <paramref name="channel"/> and says it runs.</summary>
    private static async Task<(ActionCreated Created, TaskPushMessage Push)> RunningAsync(NotificationServerHost server, TestAgent agent, TestChannel channel)
    {
        var created = await PushAsync(server, Echo(agent.Id));
        var push = await channel.ReceiveAsync<TaskPushMessage>();
        await channel.SendAsync(new AckMessage { UpToSeq = push.Seq });
        await channel.SendAsync(new TaskStatusMessage { TaskId = push.TaskId, State = TaskState.Running });
        await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Running);
        return (created, push);
    }

    private static PushTaskRequest Echo(string agentId) => TestTasks.Echo("hello", agentId);

    private static Task<ActionCreated> PushAsync(NotificationServerHost server, PushTaskRequest request) =>
        server.AdminPostAsync("/actions/task", request, ProtocolJsonContext.Default.PushTaskRequest, ProtocolJsonContext.Default.ActionCreated);

    private static async Task<ActionCancelled> CancelAsync(NotificationServerHost server, string actionId)
    {
        using var response = await server.Admin.PostAsync($"{TcmPaths.Admin}/actions/{actionId}/cancel", null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ActionCancelled))!;
    }
}
