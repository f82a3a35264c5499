namespace Tcm.NotificationServer.Tests.Functional;

public sealed class FanOutTests
{
    [Fact]
    public async Task TaskPush_ToEveryone_ReachesEveryConnectedAgentOnce_InOneAction()
    {
        const int count = 40;
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        await using var fleet = await TestFleet.ConnectAsync(server, count);
        var created = await server.AdminPostAsync("/actions/task", new PushTaskRequest { Command = "echo", Targets = Targets.Everyone },
            ProtocolJsonContext.Default.PushTaskRequest, ProtocolJsonContext.Default.ActionCreated);
        created.TargetCount.Should().Be(count);
        created.SentOverChannel.Should().Be(count);

        var pushes = await Task.WhenAll(fleet.Channels.Select(c => c.ReceiveAsync<TaskPushMessage>()));
        pushes.Should().OnlyContain(p => p.Seq == 1 && p.TaskId == created.ActionId);
        await Task.WhenAll(fleet.Channels.Select(c => c.SendAsync(new AckMessage { UpToSeq = 1 })));
        var status = await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Delivered);
        status.Counts["delivered"].Should().Be(count);
    }

    [Fact]
    public async Task FanOuts_BeyondTheSendWindow_WaitAndSaySo_ThenEveryOneCompletesOnce_InOrder()
    {
        const int agentCount = 6;
        const int fanOuts = 5;
        const int window = 3;
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, configure: o => o.MaxPushesInFlight = window);
        await using var fleet = await TestFleet.ConnectAsync(server, agentCount);

        // More work than the server may have in flight: nobody acknowledges yet, so all but the window's worth wait, stored.
        var actions = new List<ActionCreated>();
        for (var i = 0; i < fanOuts; i++)
        {
            actions.Add(await server.AdminPostAsync("/actions/task", new PushTaskRequest { Command = "echo", Targets = Targets.Everyone },
                ProtocolJsonContext.Default.PushTaskRequest, ProtocolJsonContext.Default.ActionCreated));
        }

        actions.Sum(a => a.SentOverChannel).Should().Be(window);
        actions.Should().OnlyContain(a => a.TargetCount == agentCount);
        var metrics = await server.AdminGetAsync("/metrics", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64);
        metrics["pushes.in_flight"].Should().Be(window);
        metrics["pushes.waiting"].Should().Be((agentCount * fanOuts) - window);
        metrics["pushes.sent"].Should().Be(window, "only the window's worth has been written to channels");
        var last = await server.AdminGetAsync($"/actions/{actions[^1].ActionId}", ProtocolJsonContext.Default.ActionStatus);
        last.Waiting.Should().Be(agentCount);
        last.Counts["pending"].Should().Be(agentCount);

        // The agents now work through their pushes: acknowledge, run, answer; the window lets the rest out as they do.
        var received = await Task.WhenAll(fleet.Channels.Select((c, i) => EchoAsync(c, fleet.Agents[i].Id, fanOuts)));

        for (var i = 0; i < agentCount; i++)
        {
            received[i].Select(p => p.Seq).Should().Equal(Enumerable.Range(1, fanOuts).Select(n => (long)n), "each agent gets its pushes once, in sequence");
            received[i].Select(p => p.TaskId).Should().Equal(actions.Select(a => a.ActionId), "fan-outs reach an agent in the order they were made");
        }

        foreach (var action in actions)
        {
            var status = await DeliveryTests.WaitForStateAsync(server, action.ActionId, TaskState.Succeeded);
            status.Targets.Should().HaveCount(agentCount).And.OnlyContain(t => t.ResultCount == 1 && t.DeliveredVia == "persistent");
            status.Waiting.Should().Be(0);
        }

        metrics = await server.AdminGetAsync("/metrics", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64);
        metrics["pushes.waiting"].Should().Be(0);
        metrics["pushes.in_flight"].Should().Be(0);
        metrics["results.stored"].Should().Be(agentCount * fanOuts);
        metrics["pushes.sent"].Should().Be(agentCount * fanOuts, "every push written to a channel once, the waves an acknowledgement lets out included");
        metrics["results.duplicates"].Should().Be(0);
    }

    [Fact]
    public async Task AnAgentBackWithMoreStoredPushesThanItsSendQueueHolds_GetsEveryOneOnce_InOrder_OnTheSameChannel()
    {
        const int queueBound = 16;
        const int stored = 60;
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, configure: o => o.MaxQueuedPerChannel = queueBound);
        using var agent = await server.RegisterAgentAsync();
        var actions = new List<string>();
        for (var i = 0; i < stored; i++)
        {
            var created = await DeliveryTests.PushTaskAsync(server, agent.Id);
            created.SentOverChannel.Should().Be(0, "the agent is away");
            actions.Add(created.ActionId);
        }

        // Back with almost four send queues' worth stored: the hello's re-send goes through the window, a share of the queue at a time.
        var (channel, _) = await agent.ConnectAsync(HttpVersion.Version20, lastReceivedSeq: 0);
        await using var _ = channel;
        var received = new List<TaskPushMessage>();
        while (received.Count < stored)
        {
            var push = await channel.ReceiveAsync<TaskPushMessage>();
            received.Add(push);
            await channel.SendAsync(new AckMessage { UpToSeq = push.Seq });
        }

        received.Select(p => p.Seq).Should().Equal(Enumerable.Range(1, stored).Select(n => (long)n), "every stored push once, in sequence");
        received.Select(p => p.TaskId).Should().Equal(actions);

        // The channel was not aborted, and nothing is sent twice: the next push is the next number, on the same channel.
        var next = await DeliveryTests.PushTaskAsync(server, agent.Id);
        next.SentOverChannel.Should().Be(1);
        var fresh = await channel.ReceiveAsync<TaskPushMessage>();
        (fresh.Seq, fresh.TaskId).Should().Be((stored + 1L, next.ActionId));
        var metrics = await server.AdminGetAsync("/metrics", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64);
        metrics["pushes.sent"].Should().Be(stored + 1, "each push written to a channel once");
        (metrics["pushes.waiting"], metrics["pushes.in_flight"]).Should().Be((0L, 1L));
    }

    private static async Task<List<TaskPushMessage>> EchoAsync(TestChannel channel, string agentId, int count)
    {
        var received = new List<TaskPushMessage>();
        while (received.Count < count)
        {
            var push = await channel.ReceiveAsync<TaskPushMessage>();
            received.Add(push);
            await channel.SendAsync(new AckMessage { UpToSeq = push.Seq });
            await channel.SendAsync(new TaskStatusMessage { TaskId = push.TaskId, State = TaskState.Running });
            await channel.SendAsync(new TaskResultMessage
            {
                TaskId = push.TaskId,
                IdempotencyKey = $"{agentId}:{push.TaskId}",
                State = TaskState.Succeeded,
                ExitCode = 0,
                Output = "echo",
            });
        }

        return received;
    }
}
