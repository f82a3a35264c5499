using System.Text.Json;
using Tcm.Protocol;

namespace Tcm.Protocol.Tests;

public sealed class TaskServerWorkGroupsTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UnixEpoch.AddDays(20_000);

    private static TaskServerAssignment Task(string actionId, string agentId, string text = "hi", DateTimeOffset? notAfter = null) => new()
    {
        ActionId = actionId,
        AgentId = agentId,
        Command = "echo",
        Name = "say",
        Parameters = new Dictionary<string, string> { ["text"] = text },
        TimeoutSeconds = 30,
        CreatedAt = T0,
        NotAfter = notAfter,
        Urgent = true,
    };

    [Fact]
    public void AFanOut_IsOneGroup_WithItsAgentsInOrder_AndReadsBackAsTheSameTasks()
    {
        var work = new TaskServerWork { Tasks = [.. Enumerable.Range(0, 5).Select(i => Task("a1", $"agent-{i}"))], Released = ["gone"] };

        var grouped = work.Grouped();

        grouped.Tasks.Should().BeEmpty();
        grouped.Released.Should().Equal("gone");
        var group = grouped.Groups.Should().ContainSingle().Subject;
        group.AgentIds.Should().Equal("agent-0", "agent-1", "agent-2", "agent-3", "agent-4");
        (group.ActionId, group.Command, group.Name, group.TimeoutSeconds, group.CreatedAt, group.Urgent).Should().Be(("a1", "echo", "say", 30, T0, true));
        grouped.AllTasks().Should().BeEquivalentTo(work.Tasks, o => o.WithStrictOrdering());
    }

    [Fact]
    public void TasksOfOneActionThatDiffer_AreGroupsOfTheirOwn()
    {
        var work = new TaskServerWork { Tasks = [Task("a1", "x"), Task("a1", "w"), Task("a1", "y", text: "other"), Task("a1", "z", notAfter: T0.AddHours(1))] };

        var grouped = work.Grouped();

        grouped.Groups!.Select(g => g.AgentIds).Should().BeEquivalentTo(new[] { new[] { "x", "w" }, ["y"], ["z"] }, o => o.WithStrictOrdering());
        grouped.AllTasks().Should().BeEquivalentTo(work.Tasks, o => o.WithStrictOrdering());
    }

    [Fact]
    public void EachAgentsTasks_KeepTheirOrder_WhenGroupsGatherThemAcrossAgents()
    {
        // Agent x holds a2 before a1, agent y a1 before a2: a1's group cannot take x's a1 before x's a2.
        var work = new TaskServerWork
        {
            Tasks = [Task("a1", "y"), Task("a2", "y"), Task("a2", "x"), Task("a1", "x"), Task("a1", "z"), Task("a2", "z"), Task("a1", "y")],
        };

        var back = work.Grouped().AllTasks();

        back.Should().BeEquivalentTo(work.Tasks);
        foreach (var agent in new[] { "x", "y", "z" })
        {
            back.Where(t => t.AgentId == agent).Select(t => t.ActionId).Should().Equal(work.Tasks.Where(t => t.AgentId == agent).Select(t => t.ActionId), agent);
        }

        work.Grouped().Groups.Should().HaveCountLessThan(work.Tasks.Count, "tasks of one action still share groups");
    }

    [Fact]
    public void GroupedWork_ThroughJson_ReadsBackAsTheTasks()
    {
        var work = new TaskServerWork { Tasks = [Task("a1", "x"), Task("a1", "y"), Task("a2", "x")], Cancelled = [new TaskServerTaskRef("a0", "x")] };

        var json = JsonSerializer.Serialize(work.Grouped(), ProtocolJsonContext.Default.TaskServerWork);
        var read = JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.TaskServerWork)!;

        json.Should().Contain("\"groups\"").And.Contain("\"agentIds\":[\"x\",\"y\"]");
        read.AllTasks().Should().BeEquivalentTo(work.Tasks, o => o.WithStrictOrdering());
        read.Cancelled.Should().Equal(work.Cancelled);
    }

    [Fact]
    public void WorkOfBefore_WithoutGroups_ReadsAsItsTasks()
    {
        var read = JsonSerializer.Deserialize("""{"tasks":[{"actionId":"a1","agentId":"x","command":"echo","createdAt":"2024-10-04T00:00:00+00:00"}]}""",
            ProtocolJsonContext.Default.TaskServerWork)!;

        read.Groups.Should().BeNull();
        read.AllTasks().Should().ContainSingle().Which.Should().BeSameAs(read.Tasks[0]);
        JsonSerializer.Serialize(new TaskServerWork { Tasks = [Task("a1", "x")] }, ProtocolJsonContext.Default.TaskServerWork).Should().NotContain("groups",
            "a Task Server of before is not sent what it does not read");
    }

    [Theory]
    [InlineData("""{"groups":[{"actionId":"a1","agentIds":null,"command":"echo"}]}""")]
    [InlineData("""{"groups":[{"actionId":"a1","command":"echo"}]}""")]
    public void AGroupWithoutItsAgents_IsAJsonError(string json)
    {
        var read = () => JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.TaskServerWork)!.AllTasks();

        read.Should().Throw<JsonException>();
    }
}
