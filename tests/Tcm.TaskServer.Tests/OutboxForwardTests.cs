using System.Text;
using Microsoft.Extensions.Options;
using Tcm.Hosting.Signals;
using Tcm.TaskServer.Agents;
using Tcm.TaskServer.Diagnostics;
using Tcm.TaskServer.NotificationServerLink;
using Tcm.TaskServer.Store;

namespace Tcm.TaskServer.Tests;

/// <summary>
/// The outbox on a temporary SQLite file: an entry is published at its write's commit (never for a write rolled back), rows left from
/// before a start come first; and its forward with several requests open, each batch's rows dropped only once answered, in order.
/// </summary>
public sealed class OutboxForwardTests : IDisposable
{
    private const string AgentA = "0123456789abcdef0123456789abcdef";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private readonly TemporaryFolder _folder = new("ts-outbox");
    private readonly TsMetrics _metrics = new(new TestMeterFactory());
    private TsStore _store;

    public OutboxForwardTests() => _store = new TsStore(_folder.Path);

    public void Dispose()
    {
        _store.Dispose();
        _metrics.Dispose();
        _folder.Dispose();
    }

    private void RestartStore()
    {
        _store.Dispose();
        _store = new TsStore(_folder.Path);
    }

    private static TaskServerResultItem Result(string taskId) =>
        new() { AgentId = AgentA, Result = new TaskResultMessage { TaskId = taskId, IdempotencyKey = $"{AgentA}:{taskId}", State = TaskState.Succeeded } };

    private static TaskServerStatusItem Running(string taskId) => new() { AgentId = AgentA, TaskId = taskId, State = TaskState.Running, Via = "persistent" };

    private static string TaskOf(OutboxEntry entry) => entry.Status?.TaskId ?? ((TaskResultMessage)entry.Result!.Result).TaskId;

    [Fact]
    public async Task AnEntry_IsPeekedOnceItsWriteCommitted_AndThePeekDoesNotWaitForTheWritersBatch()
    {
        var outbox = new TsOutbox(_store);
        using var added = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var write = _store.WriteAsync(s =>
        {
            outbox.Add(s, Result("t1"));
            added.Set();
            return release.Wait(Deadline);
        });
        added.Wait(Deadline).Should().BeTrue("the write runs");

        outbox.Peek(10).Should().BeEmpty("its transaction has not committed (and holds the connection, which the peek does not wait for)");

        release.Set();
        await write;
        var peeked = outbox.Peek(10);
        peeked.Select(TaskOf).Should().Equal("t1");
        _store.Query("SELECT id, payload FROM outbox", r => (r.GetInt64(0), r.GetString(1))).Should().Equal((peeked[0].Id, peeked[0].Json));
    }

    [Fact]
    public async Task AWriteRolledBack_NeverReachesThePeek_AndTheOthersOfItsBatchDo()
    {
        var outbox = new TsOutbox(_store);
        using var release = new ManualResetEventSlim();
        var holding = _store.WriteAsync(_ => release.Wait(Deadline));
        var failing = _store.WriteAsync<bool>(s =>
        {
            outbox.Add(s, Result("t1"));
            throw new InvalidOperationException("refused after its row was written");
        });
        var kept = _store.WriteAsync(s =>
        {
            outbox.Add(s, Result("t2"));
            return true;
        });
        release.Set();

        await holding;
        await kept;
        await failing.Invoking(static f => f).Should().ThrowAsync<InvalidOperationException>();
        var peeked = outbox.Peek(10);
        peeked.Select(TaskOf).Should().Equal(["t2"], "the rolled back write's row never committed");
        _store.Query("SELECT id, payload FROM outbox", r => (r.GetInt64(0), r.GetString(1))).Should().Equal((peeked[0].Id, peeked[0].Json));
    }

    [Fact]
    public async Task RowsFromBeforeAStart_ArePeekedFirst_ThenTheNewOnes_InOrder_UntilConfirmed()
    {
        var before = new TsOutbox(_store);
        await _store.WriteAsync(s =>
        {
            before.Add(s, Result("t1"));
            before.Add(s, Running("t2"));
            return true;
        });

        RestartStore();
        var outbox = new TsOutbox(_store);
        await _store.WriteAsync(s =>
        {
            outbox.Add(s, Result("t3"));
            return true;
        });

        var peeked = outbox.Peek(10);
        peeked.Select(e => (TaskOf(e), e.Kind)).Should().Equal(("t1", "result"), ("t2", "status"), ("t3", "result"));
        peeked.Select(static e => e.Id).Should().BeInAscendingOrder();
        outbox.Peek(2).Select(TaskOf).Should().Equal("t1", "t2");

        outbox.Remove([peeked[0].Id, peeked[1].Id]);
        outbox.Peek(10).Select(TaskOf).Should().Equal(["t3"], "confirmed rows leave at once for every reader");
        outbox.Count.Should().Be(1);
        await _store.WriteAsync(static _ => 0);
        outbox.Peek(10).Select(TaskOf).Should().Equal(["t3"], "once their delete committed, too");

        RestartStore();
        new TsOutbox(_store).Peek(10).Select(TaskOf).Should().Equal(["t3"], "what was not confirmed is there after another restart");
    }

    [Fact]
    public async Task WithARequestOpen_AResultCommittedMeanwhile_GoesAtOnce_AndRowsLeaveOnlyOnceAnswered()
    {
        using var stop = new CancellationTokenSource(Deadline);
        var (delivery, _, sends, drain, first, second) = await TwoRequestsOpenAsync(stop.Token);
        first.Body.Should().Contain(":t1\"").And.NotContain(":t2\"");
        second.Body.Should().Contain(":t2\"").And.NotContain(":t1\"", "the result committed while the first request was open goes in a request of its own, at once");
        delivery.OutboxCount.Should().Be(2, "no row leaves before its request is answered");

        second.Answer.SetResult();
        first.Answer.SetResult();
        await drain;
        await _store.WriteAsync(static _ => 0);
        delivery.OutboxCount.Should().Be(0);
        sends.Reader.TryRead(out _).Should().BeFalse("each result went once");
    }

    [Fact]
    public async Task AFailedRequest_LeavesItsRowsAndThoseOfTheRequestsAfterIt_ToBeSentAgain()
    {
        using var stop = new CancellationTokenSource(Deadline);
        var (delivery, forwarder, sends, drain, first, second) = await TwoRequestsOpenAsync(stop.Token);

        second.Answer.SetResult();
        first.Answer.SetException(new HttpRequestException("the NS is unreachable"));
        await drain.Invoking(static d => d).Should().ThrowAsync<HttpRequestException>();
        delivery.OutboxCount.Should().Be(2, "the second was answered, but its rows leave only after the first's (in order): sent again, the NS stores each once");

        var again = forwarder.DrainAsync(stop.Token);
        var retry = await sends.Reader.ReadAsync(stop.Token);
        retry.Body.Should().Contain(":t1\"").And.Contain(":t2\"");
        retry.Answer.SetResult();
        await again;
        await _store.WriteAsync(static _ => 0);
        delivery.OutboxCount.Should().Be(0);
    }

    // Agent A's result of t1 forwarded (the first request, not answered), then its result of t2 committed: the second request.
    private async Task<(TaskDelivery Delivery, OutboxForwarder Forwarder, System.Threading.Channels.Channel<(string Body, TaskCompletionSource Answer)> Sends, Task Drain,
        (string Body, TaskCompletionSource Answer) First, (string Body, TaskCompletionSource Answer) Second)> TwoRequestsOpenAsync(CancellationToken stop)
    {
        var (delivery, agent, forwarder, sends) = await ForwarderAsync("t1", "t2");
        await delivery.StoreResultAsync(agent, Result("t1").Result, CancellationToken.None);
        var drain = forwarder.DrainAsync(stop);
        var first = await sends.Reader.ReadAsync(stop);
        await delivery.StoreResultAsync(agent, Result("t2").Result, CancellationToken.None);
        var second = await sends.Reader.ReadAsync(stop);
        return (delivery, forwarder, sends, drain, first, second);
    }

    // A delivery holding tasks for agent A, and a forwarder whose requests the test answers (each request as its body and its answer).
    private async Task<(TaskDelivery Delivery, TsAgent Agent, OutboxForwarder Forwarder, System.Threading.Channels.Channel<(string Body, TaskCompletionSource Answer)> Sends)> ForwarderAsync(params string[] taskIds)
    {
        var delivery = new TaskDelivery(_store, _metrics, Options.Create(new TaskServerOptions { NotificationServerUrl = "https://ns:4443" }), TimeProvider.System, NullLogger<TaskDelivery>.Instance);
        await delivery.AcceptAsync([.. taskIds.Select(static id => new TaskServerAssignment { ActionId = id, AgentId = AgentA, Command = "echo" })], CancellationToken.None);
        var agent = delivery.GetOrRegister(AgentA, out _)!;
        var written = new WorkSignal();
        delivery.OutboxWritten += written.Set;
        var sends = System.Threading.Channels.Channel.CreateUnbounded<(string Body, TaskCompletionSource Answer)>();
        var forwarder = new OutboxForwarder(delivery, _metrics, written, TimeProvider.System, (_, body, _) =>
        {
            var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            sends.Writer.TryWrite((Encoding.UTF8.GetString(body), answer));
            return answer.Task;
        });
        return (delivery, agent, forwarder, sends);
    }
}
