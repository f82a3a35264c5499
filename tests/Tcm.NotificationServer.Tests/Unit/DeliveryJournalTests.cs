using Tcm.Channels.Delivery;
using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics.Metrics;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Diagnostics;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>The NS's delivery journal over a real store: what an acknowledgement writes, on its own and inside a result's write.</summary>
public sealed class DeliveryJournalTests : LedgerTest
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly DeliveryJournal _journal;

    public DeliveryJournalTests()
        : base("ns-journal") => _journal = new DeliveryJournal(Store, Ledger, new NsMetrics(_services.GetRequiredService<IMeterFactory>()));

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task Acknowledgement_DeliversTheTargetsOfTheAcknowledgedPushesOnly()
    {
        await WriteAsync(ctx =>
        {
            Ledger.Create(ctx, new NewAction("first", "task", null), T0, ["a"]);
            Ledger.Create(ctx, new NewAction("second", "task", null), T0, ["a"]);
            InsertPush(ctx, "a", 1, "first");
            InsertPush(ctx, "a", 2, null);
            InsertPush(ctx, "a", 3, "second");
        });

        await AcknowledgeAsync("a", afterSeq: 0, upToSeq: 2, "http", T0 + 10);

        var first = Find("first").Targets.Single();
        (first.State, first.DeliveredVia, first.DeliveredAt).Should().Be((TaskState.Delivered, "http", DateTimeOffset.FromUnixTimeMilliseconds(T0 + 10)));
        Find("second").Targets.Single().State.Should().Be(TaskState.Pending, "seq 3 is not acknowledged yet");
        AckedAt("a").Should().Equal(T0 + 10, T0 + 10, null);
    }

    [Fact]
    public async Task AcknowledgementOverlappingAnEarlierOne_MarksOnlyThePushesNotYetAcknowledged_KeepingEachOnesFirstTime()
    {
        await WriteAsync(ctx =>
        {
            Ledger.Create(ctx, new NewAction("first", "task", null), T0, ["a", "b"]);
            Ledger.Create(ctx, new NewAction("second", "task", null), T0, ["a"]);
            InsertPush(ctx, "a", 1, "first");
            InsertPush(ctx, "b", 1, "first");
            InsertPush(ctx, "a", 2, "second");
            InsertPush(ctx, "a", 3, null);
        });
        await AcknowledgeAsync("a", afterSeq: 0, upToSeq: 1, "persistent", T0 + 10);

        // An acknowledgement from before the first one was seen (a poll's) covers seq 1 again: only seqs 2 and 3 take its time.
        await AcknowledgeAsync("a", afterSeq: 0, upToSeq: 3, "http", T0 + 20);

        AckedAt("a").Should().Equal(T0 + 10, T0 + 20, T0 + 20);
        AckedAt("b").Should().Equal([null], "another agent's push of the same action is not its to acknowledge");
        var first = Find("first").Targets.ToDictionary(t => t.AgentId);
        (first["a"].State, first["a"].DeliveredVia, first["a"].DeliveredAt).Should().Be((TaskState.Delivered, "persistent", DateTimeOffset.FromUnixTimeMilliseconds(T0 + 10)));
        first["b"].State.Should().Be(TaskState.Pending);
        var second = Find("second").Targets.Single();
        (second.State, second.DeliveredVia, second.DeliveredAt).Should().Be((TaskState.Delivered, "http", DateTimeOffset.FromUnixTimeMilliseconds(T0 + 20)));
    }

    [Fact]
    public async Task LateAcknowledgement_KeepsTheFirstDelivery_AndNeverMovesATargetBack()
    {
        await WriteAsync(ctx =>
        {
            Ledger.Create(ctx, new NewAction("act1", "task", null), T0, ["a"]);
            InsertPush(ctx, "a", 1, "act1");
        });
        await WriteAsync(ctx => Ledger.Progress(ctx, new TargetProgress("act1", "a", TaskState.Delivered, "persistent", T0 + 5)));
        await WriteAsync(ctx => Ledger.Complete(ctx, "act1", "a", TaskState.Failed, T0 + 20, "boom", 2));

        await AcknowledgeAsync("a", 0, 1, "http", T0 + 30);
        await WriteAsync(ctx => Ledger.Progress(ctx, new TargetProgress("act1", "a", TaskState.Running, "http", T0 + 40)));

        var target = Find("act1").Targets.Single();
        (target.State, target.DeliveredVia, target.DeliveredAt).Should().Be((TaskState.Failed, "persistent", DateTimeOffset.FromUnixTimeMilliseconds(T0 + 5)));
    }

    [Fact]
    public async Task ResultsWrite_WritesTheOtherTargetsDeliveries_AndHandsBackItsOwn_ForItsFinalUpdate()
    {
        await WriteAsync(ctx =>
        {
            Ledger.Create(ctx, new NewAction("earlier", "task", null), T0, ["a"]);
            Ledger.Create(ctx, new NewAction("this", "task", null), T0, ["a"]);
            InsertPush(ctx, "a", 1, "earlier");
            InsertPush(ctx, "a", 2, "this");
        });
        _journal.Acknowledged("a", 0, 1, "http", T0 + 10, byResult: true);
        _journal.Acknowledged("a", 1, 2, "persistent", T0 + 20, byResult: true);

        TargetProgress? own = null;
        await WriteAsync(ctx =>
        {
            own = _journal.TakeForResult(ctx, "a", "this", new JournalTake());
            ctx.Query("SELECT status FROM action_targets WHERE action_id='this'", r => r.GetString(0)).Should().Equal(["pending"], "its delivery waits for the result's own update");
            Ledger.Complete(ctx, "this", "a", TaskState.Succeeded, T0 + 30, "ok", 0, own);
        });

        own.Should().Be(new TargetProgress("this", "a", TaskState.Delivered, "persistent", T0 + 20));
        var earlier = Find("earlier").Targets.Single();
        (earlier.State, earlier.DeliveredVia, earlier.DeliveredAt).Should().Be((TaskState.Delivered, "http", DateTimeOffset.FromUnixTimeMilliseconds(T0 + 10)));
        var completed = Find("this").Targets.Single();
        (completed.State, completed.DeliveredVia, completed.DeliveredAt, completed.CompletedAt, completed.ResultCount).Should().Be(
            (TaskState.Succeeded, "persistent", DateTimeOffset.FromUnixTimeMilliseconds(T0 + 20), DateTimeOffset.FromUnixTimeMilliseconds(T0 + 30), 1));
        AckedAt("a").Should().Equal(T0 + 10, T0 + 20);
    }

    [Fact]
    public async Task ResultsWrite_WithNothingPending_HandsBackNoDelivery_AndCompletionDatesIt()
    {
        await WriteAsync(ctx =>
        {
            Ledger.Create(ctx, new NewAction("this", "task", null), T0, ["a"]);
            InsertPush(ctx, "a", 1, "this");
        });

        await WriteAsync(ctx =>
        {
            _journal.TakeForResult(ctx, "a", "this", new JournalTake()).Should().BeNull();
            Ledger.Complete(ctx, "this", "a", TaskState.Succeeded, T0 + 30, "ok", 0);
        });

        var completed = Find("this").Targets.Single();
        (completed.DeliveredVia, completed.DeliveredAt).Should().Be(((string?)null, DateTimeOffset.FromUnixTimeMilliseconds(T0 + 30)));
        AckedAt("a").Should().Equal([null]);
    }

    private async Task AcknowledgeAsync(string agentId, long afterSeq, long upToSeq, string via, long atMs)
    {
        _journal.Acknowledged(agentId, afterSeq, upToSeq, via, atMs);
        // The single writer runs writes in the order queued: once this one committed, the posted acknowledgement has too.
        await WriteAsync(_ => { });
    }

    private List<long?> AckedAt(string agentId) =>
        Store.Query("SELECT acked_at FROM pushes WHERE agent_id=@p0 ORDER BY seq", r => r.IsDBNull(0) ? (long?)null : r.GetInt64(0), agentId);

    private static void InsertPush(WriteContext ctx, string agentId, long seq, string? actionId) =>
        ctx.Execute("INSERT INTO pushes(agent_id, seq, kind, payload, action_id, created_at) VALUES(@p0,@p1,'task',@p4,@p2,@p3)", agentId, seq, actionId, T0, "{}"u8.ToArray());
}
