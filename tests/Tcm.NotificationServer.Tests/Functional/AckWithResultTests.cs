namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>The acknowledgement of a task push riding with the task's result (<see cref="TaskResultMessage.AckUpToSeq"/>).</summary>
public sealed class AckWithResultTests
{
    [Fact]
    public async Task Welcome_SaysTheServerTakesAcksWithResults()
    {
        await using var connected = await ConnectedAgent.StartAsync();

        connected.Welcome.AcksWithResults.Should().BeTrue();
    }

    [Fact]
    public async Task Result_CarryingTheAck_DeliversThePush_AndStoresTheResultOnce()
    {
        await using var connected = await ConnectedAgent.StartAsync(HttpVersion.Version20);
        var (server, agent, channel, _) = connected;
        var (created, push) = await connected.PushTaskAsync();

        var key = $"{agent.Id}:{push.TaskId}";
        var result = new TaskResultMessage { TaskId = push.TaskId, IdempotencyKey = key, State = TaskState.Succeeded, Output = "hello", AckUpToSeq = push.Seq };
        await channel.SendAsync(result);
        (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys.Should().Equal(key);
        await channel.SendAsync(result);
        (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys.Should().Equal(key);

        var target = (await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Succeeded)).Targets.Should().ContainSingle().Subject;
        target.DeliveredVia.Should().Be("persistent");
        target.ResultCount.Should().Be(1);
        var info = await server.AdminGetAsync($"/agents/{agent.Id}", ProtocolJsonContext.Default.AgentInfo);
        info.LastAckedSeq.Should().Be(push.Seq);
        info.PendingPushes.Should().Be(0);
        var metrics = await server.AdminGetAsync("/metrics", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64);
        metrics["results.stored"].Should().Be(1);
        metrics["results.duplicates"].Should().Be(1);
        metrics["delivery.latency.count"].Should().Be(1, "the push's acknowledgement time was written with the result");
    }

    [Fact]
    public async Task RepeatedResult_CarryingTheAck_StillDeliversThePush_AndIsNotStoredAgain()
    {
        await using var connected = await ConnectedAgent.StartAsync();
        var (server, agent, channel, _) = connected;
        var (created, push) = await connected.PushTaskAsync();
        var key = $"{agent.Id}:{push.TaskId}";
        var result = new TaskResultMessage { TaskId = push.TaskId, IdempotencyKey = key, State = TaskState.Succeeded, Output = "first" };
        await channel.SendAsync(result);
        (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys.Should().Equal(key);

        await channel.SendAsync(result with { Output = "second", AckUpToSeq = push.Seq });
        (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys.Should().Equal(key);

        var target = (await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Succeeded)).Targets.Should().ContainSingle().Subject;
        (target.DeliveredVia, target.Output, target.ResultCount).Should().Be(("persistent", "first", 1), "the repeated result's write took its acknowledgement");
        (await server.AdminGetAsync($"/agents/{agent.Id}", ProtocolJsonContext.Default.AgentInfo)).LastAckedSeq.Should().Be(push.Seq);
        var metrics = await server.AdminGetAsync("/metrics", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64);
        (metrics["results.stored"], metrics["results.duplicates"], metrics["delivery.latency.count"]).Should().Be((1L, 1L, 1L));
    }

    [Fact]
    public async Task CarriedAck_IsStored_SoARestartedServerHandsNothingOutAgain()
    {
        using var folder = new TemporaryFolder("ns-carried-ack");
        TestAgent agent;
        await using (var first = await NotificationServerHost.StartAsync(tcmEnabled: true, dataDirectory: folder.Path))
        {
            agent = await first.RegisterAgentAsync();
            var (channel, _) = await agent.ConnectAsync();
            await using var _ = channel;
            await DeliveryTests.PushTaskAsync(first, agent.Id);
            var push = await channel.ReceiveAsync<TaskPushMessage>();
            var key = $"{agent.Id}:{push.TaskId}";
            await channel.SendAsync(new TaskResultMessage { TaskId = push.TaskId, IdempotencyKey = key, State = TaskState.Succeeded, AckUpToSeq = push.Seq });
            (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys.Should().Equal(key);
        }

        using (agent)
        {
            await using var second = await NotificationServerHost.StartAsync(tcmEnabled: true, dataDirectory: folder.Path);
            using var http = new HttpClient(second.CreateHandler(agent.Certificate)) { BaseAddress = new Uri(second.Info.BaseUrl) };

            var pending = await http.GetFromJsonAsync($"{TcmPaths.Tasks}?after=0", ProtocolJsonContext.Default.PendingPushes);

            pending!.Items.Should().BeEmpty("the push was acknowledged by the result that carried its acknowledgement");
            (await second.AdminGetAsync($"/agents/{agent.Id}", ProtocolJsonContext.Default.AgentInfo)).LastAckedSeq.Should().Be(1);
        }
    }

    [Fact]
    public async Task CarriedAck_OfAResultTheServerRefuses_IsStillStored()
    {
        await using var connected = await ConnectedAgent.StartAsync();
        var (server, agent, channel, _) = connected;
        var (created, push) = await connected.PushTaskAsync();

        await channel.SendAsync(new TaskResultMessage { TaskId = push.TaskId, IdempotencyKey = $"{agent.Id}:another-task", State = TaskState.Succeeded, AckUpToSeq = push.Seq });

        (await channel.ReceiveAsync<ErrorMessage>()).Code.Should().Be(CloseReasons.Malformed);
        (await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Delivered)).Targets[0].DeliveredVia.Should().Be("persistent");
    }
}
