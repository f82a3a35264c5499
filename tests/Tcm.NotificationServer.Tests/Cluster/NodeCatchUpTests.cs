using Microsoft.Extensions.DependencyInjection;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Tests.Functional;

namespace Tcm.NotificationServer.Tests.Cluster;

/// <summary>Two nodes on one database: what one node stores reaches the agents the other holds, in sequence, once.</summary>
public sealed class NodeCatchUpTests
{
    [Fact]
    public async Task PushStoredOnNodeA_ReachesAnAgentConnectedToNodeB_AndNodeBsOwnNextPushFollowsInSequence()
    {
        await using var nodes = await TwoNodes.StartAsync();
        using var agent = nodes.OnB(nodes.Agents[0]);
        var (channel, _) = await agent.ConnectAsync();
        await using var _ = channel;

        var fromA = await DeliveryTests.PushTaskAsync(nodes.A, agent.Id);
        fromA.SentOverChannel.Should().Be(0, "node A holds no channel of this agent");
        var first = await channel.ReceiveAsync<TaskPushMessage>();
        first.Seq.Should().Be(1);
        first.TaskId.Should().Be(fromA.ActionId);

        var fromB = await DeliveryTests.PushTaskAsync(nodes.B, agent.Id);
        fromB.SentOverChannel.Should().Be(1);
        var second = await channel.ReceiveAsync<TaskPushMessage>();
        second.Seq.Should().Be(2, "node B's next push comes after the one node A stored");
        second.TaskId.Should().Be(fromB.ActionId);

        await channel.SendAsync(new AckMessage { UpToSeq = 2 });
        await DeliveryTests.WaitForStateAsync(nodes.B, fromA.ActionId, TaskState.Delivered);
    }

    [Fact]
    public async Task SignalHeardTwice_SendsThePushOnce()
    {
        await using var nodes = await TwoNodes.StartAsync();
        using var agent = nodes.OnB(nodes.Agents[0]);
        var (channel, _) = await agent.ConnectAsync();
        await using var _ = channel;

        var fromA = await DeliveryTests.PushTaskAsync(nodes.A, agent.Id);
        (await channel.ReceiveAsync<TaskPushMessage>()).Seq.Should().Be(1);
        var receiver = nodes.B.Services.GetRequiredService<NodeCatchUp>();
        await receiver.StoredElsewhereAsync([(agent.Id, 1)], CancellationToken.None);
        await receiver.EverythingStoredAsync(CancellationToken.None);

        var fromB = await DeliveryTests.PushTaskAsync(nodes.B, agent.Id);
        var next = await channel.ReceiveAsync<TaskPushMessage>();
        next.Seq.Should().Be(2, "seq 1 must not come again");
        next.TaskId.Should().Be(fromB.ActionId);
        fromA.ActionId.Should().NotBe(fromB.ActionId);
    }

    [Fact]
    public async Task PushStoredOnNodeA_ForAnAgentWithoutChannel_IsHandedOutAtItsPollOnNodeB()
    {
        await using var nodes = await TwoNodes.StartAsync();
        using var agent = nodes.OnB(nodes.Agents[0]);

        var fromA = await DeliveryTests.PushTaskAsync(nodes.A, agent.Id);

        var pending = await Eventually.WaitAsync(
            () => agent.Http.GetFromJsonAsync($"{TcmPaths.Tasks}?after=0", ProtocolJsonContext.Default.PendingPushes)!,
            p => p!.Items.Count > 0,
            "node B hands out the push node A stored");
        pending!.Items.Should().ContainSingle().Which.Should().BeOfType<TaskPushMessage>().Which.TaskId.Should().Be(fromA.ActionId);
    }

    [Fact]
    public async Task AFanOutOnNodeA_ReachesEveryAgentConnectedToNodeB()
    {
        await using var nodes = await TwoNodes.StartAsync(agents: 20);
        var onB = nodes.Agents.Select(nodes.OnB).ToList();
        var channels = new List<TestChannel>();
        try
        {
            foreach (var agent in onB)
            {
                channels.Add((await agent.ConnectAsync()).Channel);
            }

            var created = await nodes.A.AdminPostAsync("/actions/task",
                new PushTaskRequest { Command = "echo", Targets = new Targets { All = true } },
                ProtocolJsonContext.Default.PushTaskRequest, ProtocolJsonContext.Default.ActionCreated);

            created.TargetCount.Should().Be(20);
            foreach (var channel in channels)
            {
                (await channel.ReceiveAsync<TaskPushMessage>()).TaskId.Should().Be(created.ActionId);
            }
        }
        finally
        {
            foreach (var channel in channels)
            {
                await channel.DisposeAsync();
            }

            foreach (var agent in onB)
            {
                agent.Dispose();
            }
        }
    }
}
