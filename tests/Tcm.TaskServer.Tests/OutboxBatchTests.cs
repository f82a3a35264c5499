using Tcm.TaskServer.Agents;
using Link = Tcm.TaskServer.NotificationServerLink.NotificationServerLink;

namespace Tcm.TaskServer.Tests;

/// <summary>How the Task Server batches what it forwards to the NS: few requests for a fan-out, and per task a status never after its result (also across requests open at once).</summary>
public sealed class OutboxBatchTests
{
    private static OutboxEntry Status(long id, string agent, string task) =>
        new(id, new TaskServerStatusItem { AgentId = agent, TaskId = task, State = TaskState.Delivered }, null, 100);

    private static OutboxEntry Result(long id, string agent, string task) =>
        new(id, null, new TaskServerResultItem { AgentId = agent, Result = new TaskResultMessage { TaskId = task, IdempotencyKey = $"{agent}:{task}", State = TaskState.Succeeded } }, 300);

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
        List<OutboxEntry> outbox = [Status(1, "a", "t1"), Result(2, "a", "t1"), Status(3, "b", "t1"), Status(4, "a", "t1"), Result(5, "b", "t1")];

        var (statuses, results) = Link.PlanBatch(outbox);

        statuses.Select(s => s.Id).Should().Equal(1, 3);
        results.Select(r => r.Id).Should().Equal(2);
    }

    [Fact]
    public void StatusesOfOtherTasksOfTheSameAgent_AreNotHeldBack()
    {
        List<OutboxEntry> outbox = [Result(1, "a", "t1"), Status(2, "a", "t2"), Result(3, "a", "t2")];

        var (statuses, results) = Link.PlanBatch(outbox);

        statuses.Select(s => s.Id).Should().Equal(2);
        results.Select(r => r.Id).Should().Equal(1, 3);
    }

    [Fact]
    public void AResultOfATaskWhoseStatusIsInARequestStillOpen_StartsTheNextBatch()
    {
        List<OutboxEntry> outbox = [Result(3, "b", "t1"), Status(4, "c", "t1"), Result(5, "a", "t1"), Result(6, "c", "t1")];
        HashSet<(string, string)> inFlight = [("a", "t1")];

        var (statuses, results) = Link.PlanBatch(outbox, statusesInFlight: inFlight);
        var (_, later) = Link.PlanBatch(outbox[2..]);

        results.Select(r => r.Id).Should().Equal([3L], "a's status may still be on its way to the NS, so its result waits for that request");
        statuses.Select(s => s.Id).Should().Equal(4);
        later.Select(r => r.Id).Should().Equal(5, 6);
    }

    [Fact]
    public void ABatch_IsCutBeforeTheEntryThatTakesItPastItsBytes_ButHoldsOneEntryAtLeast()
    {
        List<OutboxEntry> outbox = [Status(1, "a", "t1"), Result(2, "a", "t1"), Status(3, "b", "t1"), Result(4, "b", "t1")];

        var (statuses, results) = Link.PlanBatch(outbox, maxBytes: 450);
        var (oneStatus, none) = Link.PlanBatch(outbox, maxBytes: 10);

        statuses.Select(s => s.Id).Should().Equal(1);
        results.Select(r => r.Id).Should().Equal(2);
        oneStatus.Select(s => s.Id).Should().Equal(1);
        none.Should().BeEmpty();
    }
}
