using System.Text.Json;
using Tcm.TaskServer.Agents;
using Link = Tcm.TaskServer.NotificationServerLink.NotificationServerLink;

namespace Tcm.TaskServer.Tests;

/// <summary>How the Task Server batches what it forwards to the NS: few requests for a fan-out, and per task a status never after its result (also across requests open at once).</summary>
public sealed class OutboxBatchTests
{
    private static OutboxEntry Status(long id, string agent, string task)
    {
        var status = new TaskServerStatusItem { AgentId = agent, TaskId = task, State = TaskState.Delivered, Via = "persistent", At = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + id) };
        return new(id, status, null, JsonSerializer.Serialize(status, ProtocolJsonContext.Default.TaskServerStatusItem));
    }

    private static OutboxEntry Result(long id, string agent, string task)
    {
        var result = new TaskServerResultItem
        {
            AgentId = agent,
            Result = new TaskResultMessage { TaskId = task, IdempotencyKey = $"{agent}:{task}", State = TaskState.Succeeded, Output = $"out \"{id}\" \u00e9" },
            Delivered = new TaskServerDelivery("persistent", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + id)),
        };
        return new(id, null, result, JsonSerializer.Serialize(result, ProtocolJsonContext.Default.TaskServerResultItem));
    }

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

        var (statuses, results) = Link.PlanBatch(outbox, maxBytes: outbox[0].Bytes + outbox[1].Bytes + outbox[2].Bytes - 1);
        var (oneStatus, none) = Link.PlanBatch(outbox, maxBytes: 10);

        statuses.Select(s => s.Id).Should().Equal(1);
        results.Select(r => r.Id).Should().Equal(2);
        oneStatus.Select(s => s.Id).Should().Equal(1);
        none.Should().BeEmpty();
    }

    [Fact]
    public void ABatchWrittenFromTheEntriesJson_ReadsAsTheBatchTheSerializerWrites()
    {
        List<OutboxEntry> statuses = [Status(1, "a", "t2"), Status(3, "b", "t2")];
        List<OutboxEntry> results = [Result(2, "a", "t1"), Result(4, "b", "t1")];
        var expected = new TaskServerResultBatch { Statuses = [.. statuses.Select(s => s.Status!)], Items = [.. results.Select(r => r.Result!)] };

        var read = JsonSerializer.Deserialize(TsOutbox.WriteBatch(statuses, results), ProtocolJsonContext.Default.TaskServerResultBatch)!;
        var resultsOnly = JsonSerializer.Deserialize(TsOutbox.WriteBatch([], results), ProtocolJsonContext.Default.TaskServerResultBatch)!;

        JsonSerializer.Serialize(read, ProtocolJsonContext.Default.TaskServerResultBatch)
            .Should().Be(JsonSerializer.Serialize(expected, ProtocolJsonContext.Default.TaskServerResultBatch));
        resultsOnly.Statuses.Should().BeNullOrEmpty();
        JsonSerializer.Serialize(resultsOnly, ProtocolJsonContext.Default.TaskServerResultBatch)
            .Should().Be(JsonSerializer.Serialize(expected with { Statuses = null }, ProtocolJsonContext.Default.TaskServerResultBatch));
    }
}
