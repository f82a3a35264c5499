namespace Tcm.NotificationServer.Tests.Functional;

public sealed class FanOutTests
{
    [Fact]
    public async Task TaskPush_ToEveryone_ReachesEveryConnectedAgentOnce_InOneAction()
    {
        const int count = 40;
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        var agents = await Task.WhenAll(Enumerable.Range(0, count).Select(i => server.RegisterAgentAsync($"PC-{i:0000}")));
        var channels = await Task.WhenAll(agents.Select((a, i) => a.ConnectAsync(i % 2 == 0 ? new Version(2, 0) : new Version(1, 1))));
        try
        {
            var created = await server.AdminPostAsync("/actions/task", new PushTaskRequest { Command = "echo", Targets = Targets.Everyone },
                ProtocolJsonContext.Default.PushTaskRequest, ProtocolJsonContext.Default.ActionCreated);
            created.TargetCount.Should().Be(count);
            created.SentOverChannel.Should().Be(count);

            var pushes = await Task.WhenAll(channels.Select(c => c.Channel.ReceiveAsync<TaskPushMessage>()));
            pushes.Should().OnlyContain(p => p.Seq == 1 && p.TaskId == created.ActionId);
            await Task.WhenAll(channels.Select(c => c.Channel.SendAsync(new AckMessage { UpToSeq = 1 })));
            var status = await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Delivered);
            status.Counts["delivered"].Should().Be(count);
        }
        finally
        {
            foreach (var (channel, _) in channels)
            {
                await channel.DisposeAsync();
            }

            foreach (var agent in agents)
            {
                agent.Dispose();
            }
        }
    }
}
