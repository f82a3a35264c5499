namespace Tcm.NotificationServer.Tests.Functional;

public sealed class DeliveryTests
{
    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task TaskPush_OverChannel_AckStatusResult_IsStoredOnceWhenSentTwice(string httpVersion)
    {
        await using var connected = await ConnectedAgent.StartAsync(Version.Parse(httpVersion));
        var (server, agent, channel, _) = connected;

        var created = await PushTaskAsync(server, agent.Id);
        created.TargetCount.Should().Be(1);
        created.SentOverChannel.Should().Be(1);
        var push = await channel.ReceiveAsync<TaskPushMessage>();
        push.Seq.Should().Be(1);
        push.TaskId.Should().Be(created.ActionId);
        push.Command.Should().Be("echo");

        await channel.SendAsync(new AckMessage { UpToSeq = push.Seq });
        await WaitForStateAsync(server, created.ActionId, TaskState.Delivered);
        await channel.SendAsync(new TaskStatusMessage { TaskId = push.TaskId, State = TaskState.Running });
        await WaitForStateAsync(server, created.ActionId, TaskState.Running);

        var key = $"{agent.Id}:{push.TaskId}";
        var result = new TaskResultMessage { TaskId = push.TaskId, IdempotencyKey = key, State = TaskState.Succeeded, ExitCode = 0, Output = "hello" };
        await channel.SendAsync(result);
        (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys.Should().Equal(key);
        await channel.SendAsync(result);
        (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys.Should().Equal(key);

        var status = await WaitForStateAsync(server, created.ActionId, TaskState.Succeeded);
        var target = status.Targets.Should().ContainSingle().Subject;
        target.ResultCount.Should().Be(1);
        target.DeliveredVia.Should().Be("persistent");
        target.Output.Should().Be("hello");
        var metrics = await server.AdminGetAsync("/metrics", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64);
        metrics["results.stored"].Should().Be(1);
        metrics["results.duplicates"].Should().Be(1);
        metrics["delivery.latency.count"].Should().Be(1);
    }

    [Fact]
    public async Task Push_WhileOffline_IsHandedOutOverHttp_AndResentOnHello()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();

        var first = await PushTaskAsync(server, agent.Id);
        first.SentOverChannel.Should().Be(0);
        var pending = await agent.Http.GetFromJsonAsync($"{TcmPaths.Tasks}?after=0", ProtocolJsonContext.Default.PendingPushes);
        pending!.Items.Should().ContainSingle().Which.Should().BeOfType<TaskPushMessage>().Which.Seq.Should().Be(1);

        // The agent recorded seq 1 from the poll, then two more pushes arrive while it has no channel.
        var second = await PushTaskAsync(server, agent.Id);
        var third = await PushTaskAsync(server, agent.Id);
        var (channel, _) = await agent.ConnectAsync(lastReceivedSeq: 1);
        await using var _ = channel;

        var resent2 = await channel.ReceiveAsync<TaskPushMessage>();
        var resent3 = await channel.ReceiveAsync<TaskPushMessage>();
        (resent2.Seq, resent2.TaskId).Should().Be((2L, second.ActionId));
        (resent3.Seq, resent3.TaskId).Should().Be((3L, third.ActionId));
        await channel.SendAsync(new AckMessage { UpToSeq = 3 });

        await WaitForStateAsync(server, first.ActionId, TaskState.Delivered);
        (await WaitForStateAsync(server, third.ActionId, TaskState.Delivered)).Targets[0].DeliveredVia.Should().Be("persistent");
        var none = await agent.Http.GetFromJsonAsync($"{TcmPaths.Tasks}?after=3", ProtocolJsonContext.Default.PendingPushes);
        none!.Items.Should().BeEmpty();
        var info = await server.AdminGetAsync($"/agents/{agent.Id}", ProtocolJsonContext.Default.AgentInfo);
        info.LastAckedSeq.Should().Be(3);
        info.PendingPushes.Should().Be(0);
    }

    [Fact]
    public async Task UnackedPush_IsResentOnReconnect()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();
        var (channel, _) = await agent.ConnectAsync();
        var created = await PushTaskAsync(server, agent.Id);
        (await channel.ReceiveAsync<TaskPushMessage>()).Seq.Should().Be(1);
        await channel.DisposeAsync();

        var (again, _) = await agent.ConnectAsync(HttpVersion20, lastReceivedSeq: 0);
        await using var _ = again;
        var resent = await again.ReceiveAsync<TaskPushMessage>();
        (resent.Seq, resent.TaskId).Should().Be((1L, created.ActionId));
    }

    [Fact]
    public async Task InventoryNow_OverChannel_StoresTheInventoryResult()
    {
        await using var connected = await ConnectedAgent.StartAsync();
        var (server, agent, channel, _) = connected;

        var created = await server.InventoryNowAsync(Targets.Everyone);
        var request = await channel.ReceiveAsync<InventoryRequestMessage>();
        request.RequestId.Should().Be(created.ActionId);
        await channel.SendAsync(new AckMessage { UpToSeq = request.Seq });
        var key = $"{agent.Id}:{request.RequestId}";
        await channel.SendAsync(new InventoryResultMessage
        {
            RequestId = request.RequestId,
            IdempotencyKey = key,
            Inventory = new BasicInventory { ComputerName = "PC-0001", Software = [new InstalledSoftware("Office", "16", "Microsoft")] },
        });
        (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys.Should().Equal(key);
        (await WaitForStateAsync(server, created.ActionId, TaskState.Succeeded)).Kind.Should().Be("inventory");
    }

    [Fact]
    public async Task SecondResult_ForAStoredTask_UnderAnotherKey_IsRefused_AndTheFirstOutputStands()
    {
        await using var connected = await ConnectedAgent.StartAsync();
        var (server, agent, channel, _) = connected;
        var (created, push) = await connected.PushTaskAsync();
        await channel.SendAsync(new AckMessage { UpToSeq = push.Seq });
        var key = $"{agent.Id}:{push.TaskId}";
        await channel.SendAsync(new TaskResultMessage { TaskId = push.TaskId, IdempotencyKey = key, State = TaskState.Succeeded, ExitCode = 0, Output = "first" });
        (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys.Should().Equal(key);

        await channel.SendAsync(new TaskResultMessage { TaskId = push.TaskId, IdempotencyKey = key + ":again", State = TaskState.Failed, ExitCode = 1, Output = "second" });
        var refused = await channel.ReceiveAsync<ErrorMessage>();
        refused.Code.Should().Be(CloseReasons.Malformed);
        refused.Fatal.Should().BeFalse();
        refused.Detail.Should().Contain(key);

        var target = (await WaitForStateAsync(server, created.ActionId, TaskState.Succeeded)).Targets.Should().ContainSingle().Subject;
        target.Output.Should().Be("first");
        target.ResultCount.Should().Be(1);
    }

    [Fact]
    public async Task Result_UnderAnotherTasksKey_IsRefused_AndThatTasksOwnResultIsStored()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();
        var taskA = await PushTaskAsync(server, agent.Id);
        var taskB = await PushTaskAsync(server, agent.Id);
        var pending = await agent.Http.GetFromJsonAsync($"{TcmPaths.Tasks}?after=0", ProtocolJsonContext.Default.PendingPushes);
        pending!.Items.Should().HaveCount(2);
        await agent.Http.GetAsync($"{TcmPaths.Tasks}?after=2");
        await WaitForStateAsync(server, taskB.ActionId, TaskState.Delivered);
        var keyB = $"{agent.Id}:{taskB.ActionId}";

        var forged = await agent.Http.PostAsync(TcmPaths.TaskResult, Json(new TaskResultMessage { TaskId = taskA.ActionId, IdempotencyKey = keyB, State = TaskState.Succeeded, ExitCode = 0, Output = "result of A" }));
        forged.StatusCode.Should().Be(System.Net.HttpStatusCode.BadRequest);

        var own = await agent.Http.PostAsync(TcmPaths.TaskResult, Json(new TaskResultMessage { TaskId = taskB.ActionId, IdempotencyKey = keyB, State = TaskState.Succeeded, ExitCode = 0, Output = "result of B" }));
        own.EnsureSuccessStatusCode();
        (await own.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ResultReceipt))!.Duplicate.Should().BeFalse();
        var b = (await WaitForStateAsync(server, taskB.ActionId, TaskState.Succeeded)).Targets.Should().ContainSingle().Subject;
        b.Output.Should().Be("result of B");
        b.ResultCount.Should().Be(1);
        var a = (await server.AdminGetAsync($"/actions/{taskA.ActionId}", ProtocolJsonContext.Default.ActionStatus)).Targets.Should().ContainSingle().Subject;
        a.State.Should().Be(TaskState.Delivered);
        a.ResultCount.Should().Be(0);
    }

    private static ByteArrayContent Json(Message message)
    {
        var content = new ByteArrayContent(MessageCodec.Encode(message));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private static readonly Version HttpVersion20 = new(2, 0);

    internal static Task<ActionCreated> PushTaskAsync(NotificationServerHost server, string agentId) =>
        server.AdminPostAsync("/actions/task",
            new PushTaskRequest { Command = "echo", Parameters = new Dictionary<string, string> { ["text"] = "hello" }, Targets = new Targets { Agents = [agentId] } },
            ProtocolJsonContext.Default.PushTaskRequest, ProtocolJsonContext.Default.ActionCreated);

    internal static Task<ActionStatus> WaitForStateAsync(NotificationServerHost server, string actionId, TaskState state) =>
        Eventually.WaitAsync(
            () => server.AdminGetAsync($"/actions/{actionId}", ProtocolJsonContext.Default.ActionStatus),
            s => s.Targets.Count > 0 && s.Targets.All(t => t.State == state),
            $"action {actionId} is {state}");
}
