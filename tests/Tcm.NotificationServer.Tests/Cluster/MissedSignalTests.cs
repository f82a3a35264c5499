using Microsoft.Extensions.DependencyInjection;
using Tcm.NotificationServer.Cluster;

namespace Tcm.NotificationServer.Tests.Cluster;

/// <summary>
/// What a node does when it may have missed the other node's signals (its listening connection dropped and listens again:
/// <see cref="NodeChanges.EverythingChangedAsync"/>): the Task Server work the other node stored or moved meanwhile reaches the Task
/// Servers calling this node, as if it had heard every signal. Two real nodes on one store (<see cref="TwoNodes"/>), whose signal to the
/// other is lost while <see cref="LoopbackNodeSignal.Lost"/>.
/// </summary>
public sealed class MissedSignalTests : IAsyncLifetime
{
    private TwoNodes _nodes = null!;

    public async Task InitializeAsync() => _nodes = await TwoNodes.StartAsync();

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task TaskStoredOnA_WhileBMissedTheSignal_IsOfferedByB_ToTheTaskServerCallingIt_OnceBCatchesUp()
    {
        var (nodes, agent) = (_nodes, _nodes.Agents[0]);
        using var ts = await TestTaskServer.RegisterAsync(nodes.B);
        await ts.ReportAsync(nodes.B, (agent.Id, true));
        var toB = (LoopbackNodeSignal)nodes.SignalA;

        toB.Lost = true;
        var actionId = await PushThroughTaskServersAsync(nodes.A, agent.Id);
        toB.Lost = false;

        (await ts.PollAsync(nodes.B, waitSeconds: 1)).Tasks.Should().BeEmpty("node B did not hear of the task node A stored");
        await nodes.B.Services.GetRequiredService<NodeChanges>().EverythingChangedAsync(CancellationToken.None);

        var work = await ts.PollAsync(nodes.B, waitSeconds: 10);
        work.Tasks.Should().ContainSingle().Which.Should().Match<TaskServerAssignment>(t => t.ActionId == actionId && t.AgentId == agent.Id,
            "node B read every Task Server task again from the store once it knew it may have missed signals");
    }

    [Fact]
    public async Task AgentMovedToATaskServerOnB_WhileAMissedTheSignal_IsReleasedByTheOneItLeftOnA_OnceACatchesUp()
    {
        var (nodes, agent) = (_nodes, _nodes.Agents[0]);
        using var left = await TestTaskServer.RegisterAsync(nodes.A, "ts-left");
        using var joined = await TestTaskServer.RegisterAsync(nodes.B, "ts-joined");
        await left.ReportAsync(nodes.A, (agent.Id, true));
        await Eventually.WaitAsync(ct => left.ViewAsync(nodes.B, ct), v => v.RegisteredAgents == 1, Eventually.DefaultDeadline, "node B to know the agent is at ts-left");
        var toA = (LoopbackNodeSignal)nodes.SignalB;

        toA.Lost = true;
        await joined.ReportAsync(nodes.B, (agent.Id, true));
        toA.Lost = false;

        (await left.PollAsync(nodes.A, waitSeconds: 1)).Released.Should().BeEmpty("node A did not hear that the agent moved");
        await nodes.A.Services.GetRequiredService<NodeChanges>().EverythingChangedAsync(CancellationToken.None);

        (await left.PollAsync(nodes.A, waitSeconds: 10)).Released.Should().Equal([agent.Id],
            "node A read every agent's Task Server again from the store, so the one the agent left frees it");
    }

    private static async Task<string> PushThroughTaskServersAsync(NotificationServerHost node, string agentId) =>
        (await node.AdminPostAsync("/actions/ts-task",
            new PushTaskRequest { Command = "echo", Parameters = new Dictionary<string, string> { ["text"] = "missed" }, Targets = new Targets { Agents = [agentId] } },
            ProtocolJsonContext.Default.PushTaskRequest, ProtocolJsonContext.Default.ActionCreated)).ActionId;
}
