using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>The action ledger over a real store: how a target moves from pending to its result, and what the admin API reads.</summary>
public sealed class ActionLedgerTests() : LedgerTest("ns-ledger")
{
    [Fact]
    public async Task OnTargetsChanged_HearsEachStateChangeAfterItsCommit_NotOfAWriteThatThrew_NorAnUnchangedState()
    {
        var heard = new System.Collections.Concurrent.ConcurrentQueue<TargetStateChange>();
        Ledger.OnTargetsChanged(changes =>
        {
            foreach (var change in changes)
            {
                heard.Enqueue(change);
            }
        });
        await WriteAsync(ctx => Ledger.Create(ctx, new NewAction("act", "task", null), T0, ["a1", "a2", "a3"]));

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
    public async Task HearTargets_Off_TellsNothing_OnAgain_TellsTheChangesAfter()
    {
        var heard = new System.Collections.Concurrent.ConcurrentQueue<TargetStateChange>();
        Ledger.OnTargetsChanged(changes =>
        {
            foreach (var change in changes)
            {
                heard.Enqueue(change);
            }
        });
        await WriteAsync(ctx => Ledger.Create(ctx, new NewAction("act", "task", null), T0, ["a1", "a2"]));

        await Ledger.HearTargetsAsync(false, CancellationToken.None);
        await Store.Writer.WriteAsync(ctx => ctx.Execute("UPDATE action_targets SET status='delivered' WHERE agent_id='a1'"));
        await Ledger.HearTargetsAsync(true, CancellationToken.None);
        await Store.Writer.WriteAsync(ctx => ctx.Execute("UPDATE action_targets SET status='delivered' WHERE agent_id='a2'"));

        heard.Select(c => c.AgentId).Should().Equal(["a2"], "only the change made while the ledger heard them was told");
    }

    [Fact]
    public async Task HearTargets_SwitchedOffAndOnAgainAndAgain_TellsTheChangesOfEveryOnPhase_AndNoneOfTheOthers()
    {
        // On SQLite the writer drops and creates the store's trigger as the hearing is switched (each statement prepared once and run
        // again after the schema changed under it); on PostgreSQL it sets its session's capture.
        var heard = new System.Collections.Concurrent.ConcurrentQueue<TargetStateChange>();
        Ledger.OnTargetsChanged(changes =>
        {
            foreach (var change in changes)
            {
                heard.Enqueue(change);
            }
        });
        string[] agents = ["a0", "a1", "a2", "a3", "a4", "a5"];
        await WriteAsync(ctx => Ledger.Create(ctx, new NewAction("act", "task", null), T0, agents));

        foreach (var (agent, index) in agents.Select((a, i) => (a, i)))
        {
            await Ledger.HearTargetsAsync(index % 2 == 1, CancellationToken.None);
            await Store.Writer.WriteAsync(ctx => ctx.Execute("UPDATE action_targets SET status='delivered' WHERE agent_id=@p0", agent));
        }

        heard.Select(c => c.AgentId).Should().Equal(["a1", "a3", "a5"], "a change is told only when it was made while the ledger heard them");
    }

    [Fact]
    public async Task Create_InOneStatementOverTheIds_StoresEachIdAsItIs_EvenOnesJsonMustEscape()
    {
        string[] ids = ["plain", "with \"quotes\"", "back\\slash", "new\nline", "ünï-çødé ✓", "", "0123456789abcdef0123456789abcdef"];

        await WriteAsync(ctx => Ledger.Create(ctx, new NewAction("act1", "task", null), T0, ids));

        Store.Query("SELECT agent_id, status FROM action_targets WHERE action_id=@p0", r => (r.GetString(0), r.GetString(1)), "act1")
            .Should().BeEquivalentTo(ids.Select(id => (id, "pending")), "the JSON list is read back into exactly the ids given");
    }

    [Fact]
    public async Task Create_GivesEveryAgentAPendingTarget_CountedUnderEveryStateName()
    {
        await WriteAsync(ctx => Ledger.Create(ctx, new NewAction("act1", "task", """{"command":"hostname"}"""), T0, ["b", "a"]));

        var action = Find("act1");

        (action.ActionId, action.Kind, action.CreatedAt).Should().Be(("act1", "task", DateTimeOffset.FromUnixTimeMilliseconds(T0)));
        action.Targets.Select(t => (t.AgentId, t.State, t.ResultCount)).Should().Equal(("a", TaskState.Pending, 0), ("b", TaskState.Pending, 0));
        action.Counts.Should().Equal(new Dictionary<string, int>
        {
            ["cancelled"] = 0, ["delivered"] = 0, ["expired"] = 0, ["failed"] = 0, ["not-sent"] = 0, ["pending"] = 2, ["running"] = 0, ["succeeded"] = 0, ["timed-out"] = 0,
        });
        action.Counts.Keys.Should().BeInAscendingOrder(StringComparer.Ordinal);
    }

    [Fact]
    public void Find_UnknownAction_IsNull() => Ledger.Find("nope", _ => "").Should().BeNull();

    [Fact]
    public async Task Find_NamesEachTargetsComputer()
    {
        await WriteAsync(ctx => Ledger.Create(ctx, new NewAction("act1", "policy", null), T0, ["a", "gone"]));

        var action = Ledger.Find("act1", id => id == "a" ? "PC-A" : "")!;

        action.Targets.Select(t => t.ComputerName).Should().Equal("PC-A", "");
    }

    [Fact]
    public async Task Running_MovesAPendingOrDeliveredTarget_AndFillsAMissingDelivery()
    {
        await WriteAsync(ctx => Ledger.Create(ctx, new NewAction("act1", "ts-task", null), T0, ["a", "b"]));

        await WriteAsync(ctx =>
        {
            Ledger.Progress(ctx, new TargetProgress("act1", "a", TaskState.Running));
            Ledger.Progress(ctx, new TargetProgress("act1", "b", TaskState.Running, "http", T0 + 7));
        });

        var targets = Find("act1").Targets;
        targets.Select(t => (t.AgentId, t.State, t.DeliveredVia, t.DeliveredAt)).Should().Equal(
            ("a", TaskState.Running, null, null),
            ("b", TaskState.Running, "http", DateTimeOffset.FromUnixTimeMilliseconds(T0 + 7)));
    }

    [Fact]
    public async Task Progress_WithAFinalState_ChangesNothing_TheResultDoes()
    {
        await WriteAsync(ctx => Ledger.Create(ctx, new NewAction("act1", "ts-task", null), T0, ["a"]));

        await WriteAsync(ctx => Ledger.Progress(ctx, new TargetProgress("act1", "a", TaskState.Succeeded, "http", T0 + 7)));

        Find("act1").Targets.Single().State.Should().Be(TaskState.Pending);
    }

    [Fact]
    public async Task Complete_StoresTheResult_CountsEveryResult_AndDatesAMissingDeliveryAtCompletion()
    {
        await WriteAsync(ctx => Ledger.Create(ctx, new NewAction("act1", "task", null), T0, ["a"]));

        await WriteAsync(ctx => Ledger.Complete(ctx, "act1", "a", TaskState.TimedOut, T0 + 50, "slow", null));
        var once = Find("act1");
        await WriteAsync(ctx => Ledger.Complete(ctx, "act1", "a", TaskState.Succeeded, T0 + 60, "ok", 0));

        var target = once.Targets.Single();
        (target.State, target.Output, target.ExitCode, target.ResultCount, target.CompletedAt, target.DeliveredAt).Should().Be(
            (TaskState.TimedOut, "slow", (int?)null, 1, DateTimeOffset.FromUnixTimeMilliseconds(T0 + 50), DateTimeOffset.FromUnixTimeMilliseconds(T0 + 50)));
        once.Counts["timed-out"].Should().Be(1);
        var twice = Find("act1").Targets.Single();
        (twice.State, twice.ExitCode, twice.ResultCount).Should().Be((TaskState.Succeeded, (int?)0, 2), "a second result is counted, so exactly-once can be checked");
    }

    [Fact]
    public async Task Post_AppliesProgressWithNobodyWaiting()
    {
        await WriteAsync(ctx => Ledger.Create(ctx, new NewAction("act1", "ts-task", null), T0, ["a", "b"]));

        Ledger.Post([new TargetProgress("act1", "a", TaskState.Delivered, "persistent", T0 + 1), new TargetProgress("act1", "b", TaskState.Running)], "test progress");
        // The single writer runs operations in the order queued: once this one committed, the posted one has too.
        await WriteAsync(_ => { });

        Find("act1").Targets.Select(t => t.State).Should().Equal(TaskState.Delivered, TaskState.Running);
    }

    [Fact]
    public async Task PendingTargets_AreThoseOfTheKindNotYetDelivered()
    {
        await WriteAsync(ctx =>
        {
            Ledger.Create(ctx, new NewAction("ts1", TaskServerActionKinds.TsTask, null), T0, ["a", "b"]);
            Ledger.Create(ctx, new NewAction("direct", "task", null), T0, ["a"]);
            Ledger.Progress(ctx, new TargetProgress("ts1", "b", TaskState.Delivered, "http", T0));
        });

        Ledger.PendingTargets(TaskServerActionKinds.TsTask).Should().BeEquivalentTo([("ts1", "a")]);
    }

    [Fact]
    public void StateNames_RoundTripForEveryState()
    {
        foreach (var state in Enum.GetValues<TaskState>())
        {
            ActionLedger.ParseState(ActionLedger.StateText(state)).Should().Be(state);
        }

        ActionLedger.StateText(TaskState.TimedOut).Should().Be("timed-out");
        ActionLedger.StateText(TaskState.NotSent).Should().Be("not-sent");
        FluentActions.Invoking(() => ActionLedger.ParseState("lost")).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task ExpireDue_MarksOnlyPendingTargetsOfActionsPastTheirNotAfter_OncePerAction()
    {
        await WriteAsync(ctx =>
        {
            Ledger.Create(ctx, new NewAction("due", "task", null, DateTimeOffset.FromUnixTimeMilliseconds(T0 + 1_000)), T0, ["a", "b"]);
            Ledger.Create(ctx, new NewAction("later", "task", null, DateTimeOffset.FromUnixTimeMilliseconds(T0 + 60_000)), T0, ["a"]);
            Ledger.Create(ctx, new NewAction("never", "task", null), T0, ["a"]);
            Ledger.Progress(ctx, new TargetProgress("due", "b", TaskState.Delivered, "http", T0 + 500));
        });
        Ledger.NextNotAfter().Should().Be(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 1_000));

        var swept = await Store.Writer.WriteAsync(ctx => Ledger.ExpireDue(ctx, T0 + 1_000));
        var again = await Store.Writer.WriteAsync(ctx => Ledger.ExpireDue(ctx, T0 + 2_000));

        swept.Should().Equal(("due", 1));
        again.Should().BeEmpty();
        Find("due").Targets.Select(t => (t.AgentId, t.State)).Should().Equal(("a", TaskState.Expired), ("b", TaskState.Delivered));
        Find("later").Targets.Single().State.Should().Be(TaskState.Pending);
        Ledger.NextNotAfter().Should().Be(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 60_000));
    }

    [Fact]
    public async Task Cancel_EndsTargetsNotStarted_LeavesRunningOnes_AndALaterResultDoesNotUndoIt()
    {
        await WriteAsync(ctx =>
        {
            Ledger.Create(ctx, new NewAction("act1", "task", null), T0, ["a", "b", "c", "d"]);
            Ledger.Progress(ctx, new TargetProgress("act1", "b", TaskState.Delivered, "persistent", T0 + 1));
            Ledger.Progress(ctx, new TargetProgress("act1", "c", TaskState.Running, "persistent", T0 + 1));
            Ledger.Complete(ctx, "act1", "d", TaskState.Succeeded, T0 + 2, "done", 0);
        });

        var open = await Store.Writer.WriteAsync(ctx => Ledger.Cancel(ctx, "act1", T0 + 10));
        await WriteAsync(ctx => Ledger.Complete(ctx, "act1", "b", TaskState.Succeeded, T0 + 20, "ran anyway", 0));

        open.Should().BeEquivalentTo([("a", TaskState.Pending), ("b", TaskState.Delivered), ("c", TaskState.Running)]);
        Find("act1").Targets.Select(t => (t.AgentId, t.State)).Should().Equal(
            ("a", TaskState.Cancelled), ("b", TaskState.Cancelled), ("c", TaskState.Running), ("d", TaskState.Succeeded));
        Find("act1").Targets.Single(t => t.AgentId == "b").Output.Should().Be("ran anyway", "the result is kept, the state stays the administrator's");
        (await Store.Writer.WriteAsync(ctx => Ledger.Cancel(ctx, "nope", T0))).Should().BeNull();
    }
}
