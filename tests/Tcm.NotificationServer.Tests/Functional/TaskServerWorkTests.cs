namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>
/// The work poll of a Task Server against a real NS (Kestrel, TLS, the site-server certificate): a Task Server that asks for groups
/// gets a fan-out as one task and its agents, each agent's tasks in their order; one that does not (a Task Server of
/// before) gets one task per agent, as before.
/// </summary>
public sealed class TaskServerWorkTests
{
    [Fact]
    public async Task AFanOut_ToATaskServerThatAsksForGroups_IsOneTaskAndItsAgents_AndToOneOfBefore_ATaskPerAgent()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        var agents = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => server.RegisterAgentAsync($"PC-{i:0000}")));
        using var ts = await TestTaskServer.RegisterAsync(server);
        await ts.ReportAsync(server, [.. agents.Select(a => (a.Id, true))]);
        var first = await PushAsync(server, "first");
        var second = await PushAsync(server, "second");

        var grouped = await ts.PollAsync(server, waitSeconds: 10, groups: true);
        var old = await ts.PollAsync(server, waitSeconds: 10);

        grouped.Tasks.Should().BeEmpty("the tasks travel as groups");
        grouped.Groups.Should().NotBeNull().And.HaveCount(2, "two actions, each the same task for every agent, make one group each");
        grouped.Groups!.Select(g => g.ActionId).Should().Equal([first, second]);
        grouped.Groups!.Should().AllSatisfy(g => g.AgentIds.Should().BeEquivalentTo(agents.Select(a => a.Id)));
        grouped.Groups!.Single(g => g.ActionId == second).Parameters.Should().Equal(new Dictionary<string, string> { ["text"] = "second" });

        old.Groups.Should().BeNull("a Task Server of before did not ask for groups");
        old.Tasks.Should().HaveCount(6);
        grouped.AllTasks().Should().BeEquivalentTo(old.Tasks, "both forms hold the same tasks");
        foreach (var agent in agents)
        {
            grouped.AllTasks().Where(t => t.AgentId == agent.Id).Select(t => t.ActionId).Should().Equal([first, second], "each agent's tasks keep their order");
        }
    }

    private static async Task<string> PushAsync(NotificationServerHost server, string text) =>
        (await server.AdminPostAsync("/actions/ts-task",
            new PushTaskRequest { Command = "echo", Parameters = new Dictionary<string, string> { ["text"] = text }, Targets = Targets.Everyone },
            ProtocolJsonContext.Default.PushTaskRequest, ProtocolJsonContext.Default.ActionCreated)).ActionId;
}
