using System.Text.Json;
using Link = Tcm.TaskServer.NotificationServerLink.NotificationServerLink;

namespace Tcm.TaskServer.Tests;

/// <summary>How the Task Server batches what it forwards to the NS: few requests for a fan-out, and per task a status never after its result.</summary>
public sealed class OutboxBatchTests
{
    private static (long, string, string) Status(long id, string agent, string task) =>
        (id, "status", JsonSerializer.Serialize(new TaskServerStatusItem { AgentId = agent, TaskId = task, State = TaskState.Delivered }, ProtocolJsonContext.Default.TaskServerStatusItem));

    private static (long, string, string) Result(long id, string agent, string task) =>
        (id, "result", JsonSerializer.Serialize(
            new TaskServerResultItem { AgentId = agent, Result = new TaskResultMessage { TaskId = task, IdempotencyKey = $"{agent}:{task}", State = TaskState.Succeeded } },
            ProtocolJsonContext.Default.TaskServerResultItem));

    [Fact]
    public void AFanOutsInterleavedStatusesAndResults_GoAsOneStatusRequestAndOneResultRequest()
    {
        var outbox = Enumerable.Range(0, 100).SelectMany(i => new[] { Status(2 * i, $"agent{i}", "t1"), Result(2 * i + 1, $"agent{i}", "t1") }).ToList();

        var (statuses, results) = Link.PlanBatch(outbox);

        statuses.Should().HaveCount(100);
        results.Should().HaveCount(100);
        statuses.Select(s => s.Id).Should().BeInAscendingOrder();
        results.Select(r => r.Id).Should().BeInAscendingOrder();
    }

    [Fact]
    public void AStatusAfterTheResultOfItsTask_StartsTheNextBatch()
    {
        List<(long, string, string)> outbox = [Status(1, "a", "t1"), Result(2, "a", "t1"), Status(3, "b", "t1"), Status(4, "a", "t1"), Result(5, "b", "t1")];

        var (statuses, results) = Link.PlanBatch(outbox);

        statuses.Select(s => s.Id).Should().Equal(1, 3);
        results.Select(r => r.Id).Should().Equal(2);
    }

    [Fact]
    public void StatusesOfOtherTasksOfTheSameAgent_AreNotHeldBack()
    {
        List<(long, string, string)> outbox = [Result(1, "a", "t1"), Status(2, "a", "t2"), Result(3, "a", "t2")];

        var (statuses, results) = Link.PlanBatch(outbox);

        statuses.Select(s => s.Id).Should().Equal(2);
        results.Select(r => r.Id).Should().Equal(1, 3);
    }
}
