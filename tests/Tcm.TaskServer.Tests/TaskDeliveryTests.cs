using System.Text.Json;
using Microsoft.Extensions.Options;
using Tcm.TaskServer;
using Tcm.TaskServer.Agents;
using Tcm.TaskServer.Diagnostics;
using Tcm.TaskServer.Store;

namespace Tcm.TaskServer.Tests;

/// <summary>The Task Server's delivery in memory and on a temporary SQLite file: sequence, acks, results once, the agent limit.</summary>
public sealed class TaskDeliveryTests : IDisposable
{
    private const string AgentA = "0123456789abcdef0123456789abcdef";
    private const string AgentB = "fedcba9876543210fedcba9876543210";
    private readonly TemporaryFolder _folder = new("ts-unit");
    private TsStore _store;
    private readonly TsMetrics _metrics = new(new TestMeterFactory());

    public TaskDeliveryTests() => _store = new TsStore(_folder.Path);

    public void Dispose()
    {
        _store.Dispose();
        _metrics.Dispose();
        _folder.Dispose();
    }

    private TaskDelivery Create(int maxAgents = 5000, int window = 10_000) =>
        new(_store, _metrics, Options.Create(new TaskServerOptions { MaxAgents = maxAgents, MaxPushesInFlight = window, NotificationServerUrl = "https://ns:4443" }),
            TimeProvider.System, NullLogger<TaskDelivery>.Instance);

    // A restart of the Task Server's store: closed, and opened again on the same file.
    private void RestartStore()
    {
        _store.Dispose();
        _store = new TsStore(_folder.Path);
    }

    // why: the store's writer commits in order, so a write queued now commits after every coalesced flush already posted.
    private Task CommittedAsync() => _store.WriteAsync(static _ => 0);

    private List<TaskServerStatusItem> OutboxStatuses(TaskDelivery delivery) =>
        [.. delivery.PeekOutbox(10_000).Select(e => e.Status).OfType<TaskServerStatusItem>()];

    private static TaskServerAssignment Task(string actionId, string agentId = AgentA) =>
        new() { ActionId = actionId, AgentId = agentId, Command = "echo", Parameters = new Dictionary<string, string> { ["text"] = actionId } };

    // A new delivery that accepted a task per id in taskIds for agent A, and agent A registered with it.
    private async Task<(TaskDelivery Delivery, TsAgent Agent)> AgentAWithTasksAsync(params string[] taskIds)
    {
        var delivery = Create();
        await delivery.AcceptAsync([.. taskIds.Select(id => Task(id))], CancellationToken.None);
        return (delivery, delivery.GetOrRegister(AgentA, out _)!);
    }

    // A succeeded result of task t1, under the key agentId gives it.
    private static TaskResultMessage ResultOfT1(string agentId = AgentA) =>
        new() { TaskId = "t1", IdempotencyKey = $"{agentId}:t1", State = TaskState.Succeeded };

    [Fact]
    public async Task Accept_NumbersTasksPerAgent_AndStoresEachActionOnce()
    {
        var delivery = Create();
        var accepted = await delivery.AcceptAsync([Task("t1"), Task("t2"), Task("t1")], CancellationToken.None);

        accepted.Should().HaveCount(3, "an offer seen before is confirmed again, so the NS stops offering it");
        var agent = delivery.GetOrRegister(AgentA, out _)!;
        var pending = delivery.HandOut(agent, after: 0).Items.Cast<TaskPushMessage>().ToList();
        pending.Select(p => (p.Seq, p.TaskId)).Should().Equal((1, "t1"), (2, "t2"));
    }

    [Fact]
    public async Task Accept_AFanOutEncodedOnce_StoresForEachAgentTheBytesOfItsOwnPush()
    {
        var delivery = Create();
        await delivery.AcceptAsync([Task("t0", AgentB)], CancellationToken.None);
        var created = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        TaskServerAssignment FanOut(string agentId, string text) => Task("t1", agentId) with
        {
            Name = "say", TimeoutSeconds = 60, CreatedAt = created, Urgent = true, Parameters = new Dictionary<string, string> { ["text"] = text },
        };

        await delivery.AcceptAsync([FanOut(AgentA, "same"), FanOut(AgentB, "same"), Task("t2", AgentA), Task("t2", AgentB)], CancellationToken.None);

        var stored = _store.Query("SELECT agent_id, seq, action_id, payload FROM pushes WHERE action_id <> 't0' ORDER BY agent_id, seq",
            r => (Agent: r.GetString(0), Seq: r.GetInt64(1), Action: r.GetString(2), Payload: (byte[])r.GetValue(3)));
        stored.Should().HaveCount(4);
        foreach (var (_, seq, action, payload) in stored)
        {
            var push = (TaskPushMessage)MessageCodec.Decode(payload, int.MaxValue).Message!;
            push.Seq.Should().Be(seq, "each agent's copy carries its own sequence number");
            payload.Should().Equal(MessageCodec.Encode(push), "the copy is the bytes the push serialises to");
            (push.TaskId, push.Parameters!["text"]).Should().Be(action == "t1" ? ("t1", "same") : ("t2", "t2"), "a task of other content is encoded for itself");
        }

        stored.Where(p => p.Agent == AgentB).Select(p => p.Seq).Should().Equal(2, 3);
    }

    [Fact]
    public async Task Accept_ABatchForSeveralAgents_WritesEachAgentsNextSequence_WhichARestartReads_AfterEveryPushWasAcknowledged()
    {
        var delivery = Create();
        await delivery.AcceptAsync([Task("t1"), Task("t1", AgentB), Task("t2"), Task("t3")], CancellationToken.None);
        await delivery.AcceptAsync([Task("t4", AgentB)], CancellationToken.None);
        delivery.HandOut(delivery.GetOrRegister(AgentA, out _)!, after: 3);
        delivery.HandOut(delivery.GetOrRegister(AgentB, out _)!, after: 2);
        await CommittedAsync();

        var restarted = Create();

        // why after every acknowledgement: the pushes are gone, so only the agents' rows say which numbers were given out.
        (restarted.GetOrRegister(AgentA, out _)!.NextSeq, restarted.GetOrRegister(AgentB, out _)!.NextSeq).Should().Be((4, 3));
        restarted.HandOut(restarted.GetOrRegister(AgentA, out _)!, 3).Items.Should().BeEmpty();
    }

    [Fact]
    public async Task Ack_DropsDeliveredPushes_AndQueuesADeliveredStatusForTheNs()
    {
        var (delivery, agent) = await AgentAWithTasksAsync("t1", "t2");

        var pending = delivery.HandOut(agent, after: 1);

        pending.Items.Should().ContainSingle().Which.Should().BeOfType<TaskPushMessage>().Which.TaskId.Should().Be("t2");
        await CommittedAsync();
        var outbox = delivery.PeekOutbox(10);
        outbox.Should().ContainSingle();
        var status = outbox[0].Status!;
        (status.TaskId, status.State, status.Via).Should().Be(("t1", TaskState.Delivered, TaskDelivery.ViaHttp));
    }

    [Fact]
    public async Task StoreResult_StoresOncePerKey_AndRefusesAnotherAgentsKey()
    {
        var delivery = Create();
        var agent = delivery.GetOrRegister(AgentA, out _)!;
        var result = ResultOfT1() with { Output = "ok" };

        (await delivery.StoreResultAsync(agent, result)).Duplicate.Should().BeFalse();
        (await delivery.StoreResultAsync(agent, result)).Duplicate.Should().BeTrue();
        delivery.PeekOutbox(10).Should().ContainSingle(e => e.Kind == "result");
        var foreign = () => delivery.StoreResultAsync(agent, result with { IdempotencyKey = $"{AgentB}:t1" });
        await foreign.Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public void GetOrRegister_PastTheMaximum_RefusesWithTaskServerFull()
    {
        var delivery = Create(maxAgents: 1);
        delivery.GetOrRegister(AgentA, out _).Should().NotBeNull();

        delivery.GetOrRegister(AgentB, out var refusal).Should().BeNull();

        refusal!.Status.Should().Be(403);
        refusal.Headers![TsResponse.RefusalHeader].Should().Be(CloseReasons.TaskServerFull);
        delivery.GetOrRegister(AgentA, out _).Should().NotBeNull("an agent already registered is never refused");
    }

    [Fact]
    public async Task Release_FreesTheRegistration()
    {
        var delivery = Create(maxAgents: 1);
        await delivery.AcceptAsync([Task("t1")], CancellationToken.None);

        delivery.Release(AgentA);

        delivery.GetOrRegister(AgentB, out var refusal).Should().NotBeNull();
        refusal.Should().BeNull();
    }

    [Fact]
    public async Task State_SurvivesARestart()
    {
        var delivery = Create();
        await delivery.AcceptAsync([Task("t1")], CancellationToken.None);

        var restarted = Create();

        var agent = restarted.GetOrRegister(AgentA, out _)!;
        agent.NextSeq.Should().Be(2);
        restarted.HandOut(agent, 0).Items.Should().ContainSingle();
    }

    [Fact]
    public async Task FanOuts_BeyondThePushWindow_GoOutInWaves_AndEveryPushIsDeliveredAndReportedOnce()
    {
        const int agentCount = 6, fanOuts = 5;
        var delivery = Create(window: 3);
        var agents = Enumerable.Range(0, agentCount).Select(i => delivery.GetOrRegister($"{i:x32}", out _)!).ToArray();
        var channels = new List<RecordingChannel>();
        foreach (var agent in agents)
        {
            var channel = new RecordingChannel();
            channels.Add(channel);
            await delivery.StartSessionAsync(agent, channel, Welcome(agent.Id), 0, CancellationToken.None);
        }

        for (var f = 1; f <= fanOuts; f++)
        {
            await delivery.AcceptAsync([.. agents.Select(a => Task($"t{f}", a.Id))], CancellationToken.None);
        }

        channels.Sum(c => c.Pushes.Count).Should().Be(3, "only the window's three pushes are in flight");
        delivery.WaitingPushes.Should().Be(agentCount * fanOuts - 3);

        // Each agent acknowledges what it received; the room each acknowledgement frees sends the next wave.
        for (var round = 0; round < agentCount * fanOuts && delivery.WaitingPushes + channels.Sum(c => c.Unacknowledged) > 0; round++)
        {
            for (var i = 0; i < agentCount; i++)
            {
                if (channels[i].Pushes.Count > 0)
                {
                    channels[i].Unacknowledged = 0;
                    delivery.Ack(agents[i], channels[i].Pushes[^1].Seq, TaskDelivery.ViaPersistent);
                }
            }
        }

        delivery.WaitingPushes.Should().Be(0);
        foreach (var channel in channels)
        {
            channel.Pushes.Select(p => (p.Seq, p.TaskId)).Should().Equal(Enumerable.Range(1, fanOuts).Select(f => ((long)f, $"t{f}")), "each push once, in order");
        }

        await CommittedAsync();
        var delivered = OutboxStatuses(delivery);
        delivered.Should().OnlyContain(s => s.State == TaskState.Delivered);
        delivered.Select(s => (s.AgentId, s.TaskId)).Should().OnlyHaveUniqueItems().And.HaveCount(agentCount * fanOuts, "one delivered status per push");
        _store.Query("SELECT COUNT(*) FROM pushes", r => r.GetInt64(0)).Single().Should().Be(0, "acknowledged pushes are dropped");

        var restarted = Create().GetOrRegister(agents[0].Id, out _)!;
        (restarted.NextSeq, restarted.AckedSeq).Should().Be((fanOuts + 1L, (long)fanOuts), "the acknowledged sequence is read back from the pushes left");
    }

    [Fact]
    public async Task Accept_AFanOutLargerThanTheFirstWave_SendsTheFirstWaveOnceStored_BeforeTheRestIsStored_AndEveryPushOnceInOrder()
    {
        const int agentCount = TaskDelivery.FirstWave + 72;
        var delivery = Create();
        var agents = Enumerable.Range(0, agentCount).Select(i => delivery.GetOrRegister($"{i:x32}", out _)!).ToArray();
        await delivery.AcceptAsync([Task("t0", agents[^1].Id)], CancellationToken.None);

        // why a second connection: it reads only what was committed, so each send sees whether its push was stored before it left.
        using var reader = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_store.Path};Mode=ReadOnly;Pooling=False");
        reader.Open();
        long Committed(string sql)
        {
            using var command = reader.CreateCommand();
            command.CommandText = sql;
            return (long)command.ExecuteScalar()!;
        }

        var storedAtSend = new List<(long Own, long All)>();
        var channels = new List<RecordingChannel>();
        foreach (var agent in agents)
        {
            var channel = new RecordingChannel { OnSend = push => storedAtSend.Add(
                (Committed($"SELECT COUNT(*) FROM pushes WHERE action_id='{push.TaskId}' AND seq={push.Seq} AND agent_id='{agent.Id}'"), Committed("SELECT COUNT(*) FROM pushes WHERE action_id='t1'"))) };
            channels.Add(channel);
            await delivery.StartSessionAsync(agent, channel, Welcome(agent.Id), 0, CancellationToken.None);
        }

        storedAtSend.Clear();
        await delivery.AcceptAsync([.. agents.Select(a => Task("t1", a.Id))], CancellationToken.None);

        storedAtSend.Should().HaveCount(agentCount).And.OnlyContain(s => s.Own == 1, "a push is stored before it is sent");
        storedAtSend.Take(TaskDelivery.FirstWave).Should().OnlyContain(s => s.All == TaskDelivery.FirstWave, "the first wave leaves before the rest is stored");
        foreach (var channel in channels.Take(agentCount - 1))
        {
            channel.Pushes.Select(p => (p.Seq, p.TaskId)).Should().Equal((1, "t1"));
        }

        channels[^1].Pushes.Select(p => (p.Seq, p.TaskId)).Should().Equal((1, "t0"), (2, "t1"));

        for (var i = 0; i < agentCount; i++)
        {
            delivery.Ack(agents[i], channels[i].Pushes[^1].Seq, TaskDelivery.ViaPersistent);
        }

        await CommittedAsync();
        var restarted = Create();
        restarted.GetOrRegister(agents[0].Id, out _)!.NextSeq.Should().Be(2, "the first wave's sequences were written");
        restarted.GetOrRegister(agents[^1].Id, out _)!.NextSeq.Should().Be(3, "and the second wave's");
    }

    [Fact]
    public async Task AnAgentBackWithMorePushesThanItsShareOfTheWindow_GetsThemAShareAtATime_InOrder_OnceEach()
    {
        const int stored = 1_200;
        var (delivery, agent) = await AgentAWithTasksAsync([.. Enumerable.Range(1, stored).Select(n => $"t{n}")]);
        var channel = new RecordingChannel();

        await delivery.StartSessionAsync(agent, channel, Welcome(AgentA), 0, CancellationToken.None);
        channel.Pushes.Should().HaveCount(Tcm.Channels.Delivery.PushWindow.DefaultPerChannel, "the hello's re-send queues only the agent's share at once");

        while (channel.Pushes[^1].Seq < stored)
        {
            var before = channel.Pushes.Count;
            delivery.Ack(agent, channel.Pushes[^1].Seq, TaskDelivery.ViaPersistent);
            channel.Pushes.Count.Should().BeGreaterThan(before, "each acknowledgement lets the next share out");
        }

        channel.Pushes.Select(p => (p.Seq, p.TaskId)).Should().Equal(Enumerable.Range(1, stored).Select(n => ((long)n, $"t{n}")), "every push once, in order");
        delivery.WaitingPushes.Should().Be(0);
    }

    [Fact]
    public async Task CoalescedProgress_IsForwardedBeforeTheResult_AndTheResultOnce()
    {
        var (delivery, agent) = await AgentAWithTasksAsync("t1");
        var result = ResultOfT1() with { Output = "ok" };

        delivery.Ack(agent, 1, TaskDelivery.ViaPersistent);
        delivery.RecordStatus(agent, new TaskStatusMessage { TaskId = "t1", State = TaskState.Running }, TaskDelivery.ViaPersistent);
        (await delivery.StoreResultAsync(agent, result)).Duplicate.Should().BeFalse();
        (await delivery.StoreResultAsync(agent, result)).Duplicate.Should().BeTrue();
        await CommittedAsync();

        var kinds = delivery.PeekOutbox(10).Select(e => e.Kind).ToList();
        kinds.Should().ContainSingle(k => k == "result").And.EndWith("result", "a status never follows the result it leads to");
        OutboxStatuses(delivery).Select(s => s.State).Should().StartWith(TaskState.Delivered).And.OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task ResultCarryingTheAck_ForwardsThePushesDeliveryWithTheResult_WritesARepeatedResultsAckToo_AndForwardsNoSequenceOfItsOwn()
    {
        var (delivery, agent) = await AgentAWithTasksAsync("t1", "t2");
        TaskResultMessage Result(long ack) => ResultOfT1() with { AckUpToSeq = ack };

        (await delivery.StoreResultAsync(agent, Result(1), carriedAck: 1, CancellationToken.None)).Duplicate.Should().BeFalse();
        (await delivery.StoreResultAsync(agent, Result(2), carriedAck: 2, CancellationToken.None)).Duplicate.Should().BeTrue();
        await CommittedAsync();

        var outbox = delivery.PeekOutbox(10);
        outbox.Select(e => (e.Kind, e.Status?.TaskId)).Should().Equal([("result", null), ("status", "t2")],
            "t1's delivery travels with its result; t2's, acknowledged by the repeated result, as a status of its own");
        outbox[0].Result!.Delivered.Should().NotBeNull().And.Subject.As<TaskServerDelivery>().Via.Should().Be(TaskDelivery.ViaPersistent);
        outbox[0].Result!.Result.Should().BeOfType<TaskResultMessage>().Which.AckUpToSeq.Should().BeNull("the sequence counts the Task Server's pushes, not the NS's");
        outbox[1].Status!.State.Should().Be(TaskState.Delivered);
        _store.Query("SELECT COUNT(*) FROM pushes", r => r.GetInt64(0)).Single().Should().Be(0, "the repeated result's acknowledgement was written too");
        agent.AckedSeq.Should().Be(2);
    }

    [Fact]
    public async Task CarriedAck_OfAResultRefused_IsStillWritten()
    {
        var (delivery, agent) = await AgentAWithTasksAsync("t1");
        var foreign = ResultOfT1(AgentB) with { AckUpToSeq = 1 };

        var store = () => delivery.StoreResultAsync(agent, foreign, carriedAck: 1, CancellationToken.None);

        await store.Should().ThrowAsync<ArgumentException>();
        await CommittedAsync();
        OutboxStatuses(delivery).Should().ContainSingle().Which.State.Should().Be(TaskState.Delivered);
        _store.Query("SELECT COUNT(*) FROM pushes", r => r.GetInt64(0)).Single().Should().Be(0);
    }

    [Fact]
    public async Task Outbox_AfterARestart_IsReadFromTheStore_AndForwardedEntriesLeaveItTogether()
    {
        var (delivery, agent) = await AgentAWithTasksAsync("t1");
        await delivery.StoreResultAsync(agent, ResultOfT1() with { Output = "ok" }, carriedAck: 1, CancellationToken.None);
        var before = delivery.PeekOutbox(10);

        RestartStore();
        var restarted = Create();
        var after = restarted.PeekOutbox(10);

        static string Json(OutboxEntry e) => e.Status is { } status
            ? JsonSerializer.Serialize(status, ProtocolJsonContext.Default.TaskServerStatusItem)
            : JsonSerializer.Serialize(e.Result!, ProtocolJsonContext.Default.TaskServerResultItem);
        after.Select(e => (e.Id, Json(e))).Should().Equal(before.Select(e => (e.Id, Json(e))), "the same entries, in the same order, read back from their rows");
        after.Select(e => e.Kind).Should().Equal("result");
        after[0].Result!.Delivered.Should().NotBeNull("the delivery that rode with the result is kept in its row");
        restarted.RemoveFromOutbox([.. after.Select(e => e.Id)]);
        restarted.PeekOutbox(10).Should().BeEmpty();
        restarted.OutboxCount.Should().Be(0);
        await CommittedAsync();
        RestartStore();
        Create().PeekOutbox(10).Should().BeEmpty("once the writer committed the delete, the rows are gone after another restart too");
        _store.Query("SELECT COUNT(*) FROM outbox", r => r.GetInt64(0)).Single().Should().Be(0);
    }

    private static WelcomeMessage Welcome(string agentId) =>
        new() { ProtocolVersion = ProtocolConstants.Version, AgentId = agentId, ServerName = "ts", ConnectionId = "0123456789abcdef" };

    /// <summary>A channel that records the pushes queued on it.</summary>
    private sealed class RecordingChannel : Tcm.Channels.Delivery.IPushChannel
    {
        public List<TaskPushMessage> Pushes { get; } = [];

        public int Unacknowledged { get; set; }

        public bool Ready { get; set; }

        public void Send(Message message)
        {
        }

        public Action<TaskPushMessage>? OnSend { get; init; }

        public void SendPayload(byte[] utf8Json, bool offload = false)
        {
            Pushes.Add((TaskPushMessage)MessageCodec.Decode(utf8Json, int.MaxValue).Message!);
            OnSend?.Invoke(Pushes[^1]);
            Unacknowledged++;
        }

        public void BeginClose(System.Net.WebSockets.WebSocketCloseStatus status, string code, string detail, bool sendError = false)
        {
        }
    }
}
