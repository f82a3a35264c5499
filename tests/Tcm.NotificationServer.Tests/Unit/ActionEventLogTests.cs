using System.Collections.Concurrent;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.ActionStreams;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>
/// The targets' state changes as the store hands them on (after the commit, never for a write rolled back) and
/// <see cref="ActionEventLog"/>, the ring the event streams read.
/// </summary>
public sealed class ActionEventLogTests : IAsyncDisposable
{
    private readonly TemporaryStore _temporary = new("ns-action-events");

    private TcmStore Store => _temporary.Store;

    public ValueTask DisposeAsync() => _temporary.DisposeAsync();

    [Fact]
    public async Task StateChanges_AreHandedOnAfterTheirCommit_NotForAWriteThatThrew_NorForAnUnchangedState()
    {
        var heard = new ConcurrentQueue<TargetStateChange>();
        Store.WatchTargetStates(changes =>
        {
            foreach (var change in changes)
            {
                heard.Enqueue(change);
            }
        });
        await Store.Writer.WriteAsync(ctx => new ActionLedger(Store).Create(ctx, new NewAction("act", "task", null), 1, ["a1", "a2", "a3"]));

        var good = Store.Writer.WriteAsync(ctx => ctx.Execute("UPDATE action_targets SET status='delivered', delivered_via='persistent' WHERE agent_id='a1'"));
        var bad = Store.Writer.WriteAsync(ctx =>
        {
            ctx.Execute("UPDATE action_targets SET status='delivered' WHERE agent_id='a2'");
            throw new InvalidOperationException("the caller's write failed after the ledger's change");
        });
        var unchanged = Store.Writer.WriteAsync(ctx => ctx.Execute("UPDATE action_targets SET status='pending' WHERE agent_id='a3'"));
        var newState = Store.Writer.WriteAsync(ctx => ctx.Execute("UPDATE action_targets SET status='some-future-state', output=@p0 WHERE agent_id='a3'", new string('x', 3000)));
        await good;
        await FluentActions.Awaiting(() => bad).Should().ThrowAsync<InvalidOperationException>();
        await unchanged;
        await newState;

        heard.Select(c => (c.AgentId, c.State)).Should().Equal([("a1", "delivered"), ("a3", "some-future-state")]);
        heard.First().DeliveredVia.Should().Be("persistent");
        var last = heard.Last();
        (last.Output!.Length, last.OutputTruncated).Should().Be((TcmStore.ChangeOutputLimit, true));
    }

    [Fact]
    public void Read_FiltersByAction_AndMovesTheCursorPastOtherActions()
    {
        var log = new ActionEventLog(new ActionLedger(Store));
        log.Append([Change("a", "1"), Change("b", "1"), Change("a", "2"), Change("b", "2")]);
        var into = new List<(long Seq, TargetStateChange Change)>();

        var next = log.Read(0, "b", into, 10);

        next.Should().Be(4);
        into.Select(e => (e.Seq, e.Change.AgentId)).Should().Equal([(2L, "1"), (4L, "2")]);
        into.Clear();
        log.Read(0, null, into, 3).Should().Be(3, "a read takes at most its batch");
    }

    [Fact]
    public void ACursorOlderThanTheRing_CannotBeRead_NorResumed_NorAnIdOfAnotherLife()
    {
        var log = new ActionEventLog(new ActionLedger(Store));
        log.Append([.. Enumerable.Range(0, ActionEventLog.Capacity + 10).Select(i => Change("a", $"agent-{i}"))]);
        var into = new List<(long Seq, TargetStateChange Change)>();

        log.Read(0, null, into, 10).Should().BeNull("the first ten changes have left the ring");
        log.Read(log.Last - 5, null, into, 10).Should().Be(log.Last);
        into.Should().HaveCount(5);
        log.ResumeAfter(log.IdOf(log.Last)).Should().Be(log.Last);
        log.ResumeAfter(log.IdOf(log.Last - ActionEventLog.Capacity)).Should().Be(log.Last - ActionEventLog.Capacity, "the oldest kept change follows it");
        log.ResumeAfter(log.IdOf(1)).Should().BeNull();
        log.ResumeAfter(log.IdOf(log.Last + 1)).Should().BeNull("an id this server never gave");
        log.ResumeAfter("0000-5").Should().BeNull("an id of another life of the server");
        log.ResumeAfter(null).Should().BeNull();
    }

    [Fact]
    public async Task WaitAsync_CompletesOnTheNextAppend()
    {
        var log = new ActionEventLog(new ActionLedger(Store));
        var waiting = log.WaitAsync(log.Last);
        waiting.IsCompleted.Should().BeFalse();

        log.Append([Change("a", "1")]);

        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        log.WaitAsync(0).IsCompleted.Should().BeTrue();
    }

    private static TargetStateChange Change(string actionId, string agentId) => new(actionId, agentId, "delivered", null, null, null, null, null, false, 0);
}
