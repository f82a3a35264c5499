using Microsoft.Extensions.DependencyInjection;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Cluster;

/// <summary>
/// The Task Servers' counts (agents held, connected, online, the node called) across two real nodes on one PostgreSQL database
/// (<see cref="PostgresNodes"/>): a Task Server reports to one node, the admin API and the policies of the other show and list the same.
/// </summary>
public sealed class TaskServerCountsTests : IAsyncLifetime
{
    private PostgresNodes _nodes = null!;
    private TestAgent[] _agents = [];

    public async Task InitializeAsync()
    {
        _nodes = await PostgresNodes.StartAsync();
        _agents = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => _nodes.A.RegisterAgentAsync($"PC-{i:0000}")));
        foreach (var agent in _agents)
        {
            await Eventually.WaitAsync(
                ct => _nodes.B.Admin.GetAsync($"{TcmPaths.Admin}/agents/{agent.Id}", ct), r => r.StatusCode == HttpStatusCode.OK, Eventually.DefaultDeadline,
                "node B to know the agent node A registered");
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            agent.Dispose();
        }

        await _nodes.DisposeAsync();
    }

    [PostgresFact]
    public async Task TaskServerReportingToA_ShowsTheSameCountsOnB_AndBsPoliciesListThem()
    {
        using var ts = await TestTaskServer.RegisterAsync(_nodes.A);
        await ts.ReportAsync(_nodes.A, (_agents[0].Id, true), (_agents[1].Id, true), (_agents[2].Id, false));

        var onA = await ts.ViewAsync(_nodes.A);
        (onA.RegisteredAgents, onA.ConnectedAgents, onA.Online, onA.Node).Should().Be((3, 2, true, "node-a"), "node A has the report in memory");
        var onB = await Eventually.WaitAsync(ct => ts.ViewAsync(_nodes.B, ct), v => v.RegisteredAgents == 3, Eventually.DefaultDeadline, "node B to read the counts node A wrote");
        (onB.ConnectedAgents, onB.Online, onB.Node).Should().Be((2, true, "node-a"));

        // why a change of the selection: a policy lists the counts of when it was computed; the change makes both nodes compute every policy again.
        using (var response = await _nodes.A.Admin.PutAsJsonAsync($"{TcmPaths.Admin}/task-servers/selection", new TaskServerSelectionSettings(), ProtocolJsonContext.Default.TaskServerSelectionSettings))
        {
            response.EnsureSuccessStatusCode();
        }

        (await PolicyCountAsync(_agents[0])).Should().Be(3);
        using var agentOnB = _nodes.OnB(_agents[0]);
        await Eventually.WaitAsync(() => PolicyCountAsync(agentOnB), n => n == 3, Eventually.DefaultDeadline,
            "node B's policy to list the agents the Task Server calling node A holds, for the agent's fewest-computers selection");
    }

    [PostgresFact]
    public async Task TaskServerThatMovedFromAToB_IsShownByA_AsBHasIt()
    {
        using var ts = await TestTaskServer.RegisterAsync(_nodes.A);
        await ts.ReportAsync(_nodes.A, (_agents[0].Id, true), (_agents[1].Id, true), (_agents[2].Id, true));
        (await ts.ViewAsync(_nodes.A)).RegisteredAgents.Should().Be(3);

        await ts.ReportAsync(_nodes.B, (_agents[0].Id, true));

        var onA = await Eventually.WaitAsync(ct => ts.ViewAsync(_nodes.A, ct), v => v.Node == "node-b", Eventually.DefaultDeadline,
            "node A to show what node B heard later than node A's own memory");
        (onA.RegisteredAgents, onA.ConnectedAgents, onA.Online).Should().Be((1, 1, true));
        (await ts.ViewAsync(_nodes.B)).Should().BeEquivalentTo(onA, o => o.Excluding(v => v.LastContact));
    }

    [PostgresFact]
    public async Task FullReportToB_ClaimsAgentsAnotherTaskServerHolds_InOneBatch_RefusesThoseNotConnected_AndBothNodesCountTheSame()
    {
        using var ts1 = await TestTaskServer.RegisterAsync(_nodes.A, "ts1");
        using var ts2 = await TestTaskServer.RegisterAsync(_nodes.A, "ts2");
        await ts1.ReportAsync(_nodes.A, (_agents[0].Id, true), (_agents[1].Id, true), (_agents[2].Id, true));

        // ts2, back after a failure, lists agent 0 that moved on meanwhile (not connected to it) and agent 1 that connected to it since.
        await ts2.ReportAsync(_nodes.B, (_agents[0].Id, false), (_agents[1].Id, true));

        (await ts2.PollAsync(_nodes.B, waitSeconds: 0)).Released.Should().ContainSingle().Which.Should().Be(_agents[0].Id, "ts1 holds agent 0, which is not connected to ts2");
        var holders = _nodes.A.Services.GetRequiredService<TcmStore>().Query("SELECT agent_id, server_id FROM ts_holders", r => (r.GetString(0), r.GetString(1)));
        var ids = (await _nodes.A.AdminGetAsync("/task-servers", ProtocolJsonContext.Default.IReadOnlyListTaskServerInfoView)).ToDictionary(t => t.Name, t => t.Id);
        holders.Should().BeEquivalentTo([(_agents[0].Id, ids["ts1"]), (_agents[1].Id, ids["ts2"]), (_agents[2].Id, ids["ts1"])]);

        foreach (var node in new[] { _nodes.A, _nodes.B })
        {
            await Eventually.WaitAsync(ct => ts1.ViewAsync(node, ct), v => v.RegisteredAgents == 2, Eventually.DefaultDeadline, "ts1 to have released agent 1, seen by both nodes");
            await Eventually.WaitAsync(ct => ts2.ViewAsync(node, ct), v => v.RegisteredAgents == 1, Eventually.DefaultDeadline, "ts2 to hold agent 1 alone, seen by both nodes");
        }
    }

    /// <summary>How many agents the policy the node <paramref name="agent"/> calls gives it lists at its one Task Server.</summary>
    private static async Task<int> PolicyCountAsync(TestAgent agent)
    {
        var policy = await agent.Http.GetFromJsonAsync(TcmPaths.Policy, ProtocolJsonContext.Default.PolicyDocument);
        return policy!.TaskServers!.Servers.Single().RegisteredAgents;
    }
}
