using System.Diagnostics.Metrics;
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
    private readonly TsStore _store;
    private readonly TsMetrics _metrics = new(new TestMeterFactory());

    public TaskDeliveryTests() => _store = new TsStore(_folder.Path);

    public void Dispose()
    {
        _store.Dispose();
        _metrics.Dispose();
        _folder.Dispose();
    }

    private TaskDelivery Create(int maxAgents = 5000) =>
        new(_store, _metrics, Options.Create(new TaskServerOptions { MaxAgents = maxAgents, NotificationServerUrl = "https://ns:4443" }), TimeProvider.System, NullLogger<TaskDelivery>.Instance);

    private static TaskServerAssignment Task(string actionId, string agentId = AgentA) =>
        new() { ActionId = actionId, AgentId = agentId, Command = "echo", Parameters = new Dictionary<string, string> { ["text"] = actionId } };

    [Fact]
    public async Task Accept_NumbersTasksPerAgent_AndStoresEachActionOnce()
    {
        var delivery = Create();
        var accepted = await delivery.AcceptAsync([Task("t1"), Task("t2"), Task("t1")], CancellationToken.None);

        accepted.Should().HaveCount(3, "an offer seen before is confirmed again, so the NS stops offering it");
        var agent = delivery.GetOrRegister(AgentA, out _)!;
        var pending = (await delivery.HandOutAsync(agent, after: 0)).Items.Cast<TaskPushMessage>().ToList();
        pending.Select(p => (p.Seq, p.TaskId)).Should().Equal((1, "t1"), (2, "t2"));
    }

    [Fact]
    public async Task Ack_DropsDeliveredPushes_AndQueuesADeliveredStatusForTheNs()
    {
        var delivery = Create();
        await delivery.AcceptAsync([Task("t1"), Task("t2")], CancellationToken.None);
        var agent = delivery.GetOrRegister(AgentA, out _)!;

        var pending = await delivery.HandOutAsync(agent, after: 1);

        pending.Items.Should().ContainSingle().Which.Should().BeOfType<TaskPushMessage>().Which.TaskId.Should().Be("t2");
        var outbox = delivery.PeekOutbox(10);
        outbox.Should().ContainSingle();
        var status = JsonSerializer.Deserialize(outbox[0].Payload, ProtocolJsonContext.Default.TaskServerStatusItem)!;
        (status.TaskId, status.State, status.Via).Should().Be(("t1", TaskState.Delivered, TaskDelivery.ViaHttp));
    }

    [Fact]
    public async Task StoreResult_StoresOncePerKey_AndRefusesAnotherAgentsKey()
    {
        var delivery = Create();
        var agent = delivery.GetOrRegister(AgentA, out _)!;
        var result = new TaskResultMessage { TaskId = "t1", IdempotencyKey = $"{AgentA}:t1", State = TaskState.Succeeded, Output = "ok" };

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
        (await restarted.HandOutAsync(agent, 0)).Items.Should().ContainSingle();
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in _meters)
            {
                meter.Dispose();
            }
        }
    }
}
