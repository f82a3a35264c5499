using Microsoft.Extensions.Time.Testing;
using Tcm.NotificationServer.ActionStreams;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary><see cref="ActionEventLog"/>, the ring of committed changes the event streams read, each with its own cursor.</summary>
public sealed class ActionEventLogTests
{
    [Fact]
    public void Read_FiltersByAction_AndMovesTheCursorPastOtherActions()
    {
        var log = new ActionEventLog();
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
        var log = new ActionEventLog();
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
        var log = new ActionEventLog();
        var waiting = log.WaitAsync(log.Last);
        waiting.IsCompleted.Should().BeFalse();

        log.Append([Change("a", "1")]);

        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        log.WaitAsync(0).IsCompleted.Should().BeTrue();
    }

    [Fact]
    public async Task AListener_TurnsHearingOnAndWaitsForIt_TheLastLeaving_TurnsItOffOnlyAfterTheLinger()
    {
        var time = new FakeTimeProvider();
        var switched = new List<bool>();
        var on = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new ActionEventLog((hear, _) =>
        {
            switched.Add(hear);
            return hear ? on.Task : Task.CompletedTask;
        }, time);
        switched.Should().Equal([false], "nobody listens yet");

        var first = log.ListenAsync(CancellationToken.None);
        var second = log.ListenAsync(CancellationToken.None);
        first.IsCompleted.Should().BeFalse("a stream reads the store only once no change can fall between");
        on.SetResult();
        var leases = new[] { await first, await second };

        switched.Should().Equal([false, true], "the second listener shares the first one's switch");
        leases[0].Dispose();
        leases[1].Dispose();
        time.Advance(ActionEventLog.Linger - TimeSpan.FromSeconds(1));
        switched.Should().Equal([false, true], "a client reconnecting within the linger finds the changes heard");
        time.Advance(TimeSpan.FromSeconds(1));
        switched.Should().Equal([false, true, false]);
    }

    [Fact]
    public async Task AClientBackWithinTheLinger_Resumes_OneBackAfterHearingStopped_GetsTheState()
    {
        var time = new FakeTimeProvider();
        var log = new ActionEventLog((_, _) => Task.CompletedTask, time);
        var lease = await log.ListenAsync(CancellationToken.None);
        log.Append([Change("a", "1")]);
        var lastSeen = log.IdOf(log.Last);
        lease.Dispose();

        time.Advance(ActionEventLog.Linger / 2);
        using (await log.ListenAsync(CancellationToken.None))
        {
            log.ResumeAfter(lastSeen).Should().Be(1);
        }

        time.Advance(ActionEventLog.Linger);
        using (await log.ListenAsync(CancellationToken.None))
        {
            log.ResumeAfter(lastSeen).Should().BeNull("changes made while nothing was heard are not in the ring");
            log.ResumeAfter(log.IdOf(log.Last)).Should().Be(log.Last, "ids of the new epoch resume");
        }
    }

    [Fact]
    public async Task ASwitchThatFailed_FailsItsListener_AndTheNextListenerTriesAgain()
    {
        var attempts = 0;
        var log = new ActionEventLog((hear, _) => hear && ++attempts == 1 ? Task.FromException(new InvalidOperationException("store closed")) : Task.CompletedTask, new FakeTimeProvider());

        await FluentActions.Awaiting(() => log.ListenAsync(CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();
        using var lease = await log.ListenAsync(CancellationToken.None);

        attempts.Should().Be(2);
    }

    private static TargetStateChange Change(string actionId, string agentId) => new(actionId, agentId, "delivered", null, null, null, null, null, false, 0);
}
