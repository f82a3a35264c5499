using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tcm.NotificationServer.Waves;

namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>
/// Actions in waves against a real server on a manual clock: each wave goes exactly one interval after the previous one (read from
/// the store's timestamps), only to its own targets; the brake stops the waves and marks the rest <c>not-sent</c> with the reason;
/// a restarted server sends the waves left at their time.
/// </summary>
public sealed class WaveTests
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Waves_GoOneIntervalApart_OnTheServersClock_EachToItsOwnTargets()
    {
        var (clock, t0) = NewClock();
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, time: clock);
        await using var fleet = await TestFleet.ConnectAsync(server, 5);

        var created = await PushAsync(server, new WavePlan { Size = 2, EverySeconds = Every.TotalSeconds }, "echo");

        created.TargetCount.Should().Be(5);
        created.SentOverChannel.Should().Be(2, "only the first wave goes at once");
        var status = await server.GetActionAsync(created.ActionId);
        status.Waves!.State.Should().Be(ActionWaves.Sending);
        status.Waves.Items.Select(w => (w.Number, w.Targets, w.StartedAt)).Should().Equal((1, 2, t0), (2, 2, null), (3, 1, null));
        status.Waves.NextWaveAt.Should().Be(t0 + Every);
        WavesOf(status).Should().Equal(new Dictionary<string, int> { ["PC-0000"] = 1, ["PC-0001"] = 1, ["PC-0002"] = 2, ["PC-0003"] = 2, ["PC-0004"] = 3 });
        (await Task.WhenAll(fleet.Channels[..2].Select(c => c.ReceiveAsync<TaskPushMessage>()))).Should().OnlyContain(p => p.TaskId == created.ActionId);
        (await PendingPushesAsync(server, fleet, 2..)).Should().OnlyContain(n => n == 0, "the later waves' targets have no push stored yet");

        await AdvanceWhenAsleepAsync(server, clock, t0 + Every);
        status = await WaitForWaveAsync(server, created.ActionId, 2);
        status.Waves!.Items[1].StartedAt.Should().Be(t0 + Every, "wave 2 goes one interval after wave 1, not before");
        (await Task.WhenAll(fleet.Channels[2..4].Select(c => c.ReceiveAsync<TaskPushMessage>()))).Should().OnlyContain(p => p.TaskId == created.ActionId);
        (await PendingPushesAsync(server, fleet, 4..)).Should().Equal(0);

        await AdvanceWhenAsleepAsync(server, clock, t0 + (2 * Every));
        status = await WaitForWaveAsync(server, created.ActionId, 3);
        status.Waves!.Items[2].StartedAt.Should().Be(t0 + (2 * Every));
        status.Waves.State.Should().Be(ActionWaves.Done);
        status.Waves.NextWaveAt.Should().BeNull();
        (await fleet.Channels[4].ReceiveAsync<TaskPushMessage>()).TaskId.Should().Be(created.ActionId);
        server.Services.GetRequiredService<WaveScheduler>().Open.Should().Be(0, "an action whose waves are all sent leaves the scheduler");
    }

    [Fact]
    public async Task Brake_StopsTheWaves_WhenFailuresReachTheThreshold_AndMarksTheRestNotSentWithTheReason()
    {
        var (clock, t0) = NewClock();
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, time: clock);
        await using var fleet = await TestFleet.ConnectAsync(server, 6);
        var created = await PushAsync(server, new WavePlan { Size = 2, EverySeconds = Every.TotalSeconds, StopAfterFailedPercent = 50 }, "check");
        // The brake is weighed every second between waves: the loop sleeps one second, not the whole interval.
        await WaitAsleepUntilAsync(server, t0 + WaveScheduler.BrakeCheckPeriod);

        // Wave 1: one target fails, one succeeds: half of the targets sent failed.
        await AnswerAsync(fleet, 0, created.ActionId, TaskState.Failed);
        await AnswerAsync(fleet, 1, created.ActionId, TaskState.Succeeded);
        await Eventually.WaitAsync(ct => server.GetActionAsync(created.ActionId, ct), s => s.Counts["failed"] == 1 && s.Counts["succeeded"] == 1, Eventually.DefaultDeadline, "wave 1's results");

        // Past the time wave 2 was due: the brake is weighed first, so wave 2 never goes.
        clock.Advance(Every);
        var status = await Eventually.WaitAsync(ct => server.GetActionAsync(created.ActionId, ct), s => s.Waves!.State == ActionWaves.Stopped, Eventually.DefaultDeadline, "the brake to stop the waves");

        status.Waves!.StoppedAt.Should().Be(t0 + Every);
        status.Waves.StopReason.Should().Be("stopped after wave 1 of 3: 1 of the 2 targets sent failed or timed out (50%), reaching the brake of 50% failed");
        status.Waves.Items.Select(w => w.StartedAt).Should().Equal(t0, null, null);
        status.Counts["not-sent"].Should().Be(4);
        status.Targets.Where(t => t.Wave > 1).Should().HaveCount(4).And.OnlyContain(t => t.State == TaskState.NotSent && t.Output == status.Waves.StopReason && t.DeliveredAt == null && t.CompletedAt == t0 + Every);
        status.Waves.Items[1].Counts.Should().Equal(new Dictionary<string, int> { ["not-sent"] = 2 });
        (await PendingPushesAsync(server, fleet, 2..)).Should().OnlyContain(n => n == 0, "no push was stored for a target the brake kept back");
        server.Services.GetRequiredService<WaveScheduler>().Open.Should().Be(0);
    }

    [Fact]
    public async Task Brake_ByCount_IsWeighedBetweenWaves_NotOnlyWhenTheNextIsDue()
    {
        var (clock, t0) = NewClock();
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, time: clock);
        await using var fleet = await TestFleet.ConnectAsync(server, 4);
        var created = await PushAsync(server, new WavePlan { Size = 2, EverySeconds = 60, StopAfterFailedCount = 1 }, "check");
        await WaitAsleepUntilAsync(server, t0 + WaveScheduler.BrakeCheckPeriod);
        await AnswerAsync(fleet, 0, created.ActionId, TaskState.TimedOut);
        await Eventually.WaitAsync(ct => server.GetActionAsync(created.ActionId, ct), s => s.Counts["timed-out"] == 1, Eventually.DefaultDeadline, "the timed-out result");

        clock.Advance(WaveScheduler.BrakeCheckPeriod);
        var status = await Eventually.WaitAsync(ct => server.GetActionAsync(created.ActionId, ct), s => s.Waves!.State == ActionWaves.Stopped, Eventually.DefaultDeadline, "the brake to stop the waves");

        status.Waves!.StoppedAt.Should().Be(t0 + WaveScheduler.BrakeCheckPeriod, "a minute before wave 2 was due");
        status.Waves.StopReason.Should().EndWith("reaching the brake of 1 failed");
        status.Counts["not-sent"].Should().Be(2);
    }

    [Fact]
    public async Task Waves_SurviveARestart_AndTheNextGoesAtItsTime()
    {
        var (clock, t0) = NewClock();
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, time: clock);
        var agents = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => server.RegisterAgentAsync($"PC-{i:0000}")));
        var created = await PushAsync(server, new WavePlan { Percent = 50, EverySeconds = 60 }, "echo");

        await server.StopAsync();
        clock.Advance(TimeSpan.FromSeconds(20));
        await server.StartAsync();

        // The restarted server read the open action from the store and sleeps until wave 2's time, 60 s after wave 1.
        await AdvanceWhenAsleepAsync(server, clock, t0 + TimeSpan.FromSeconds(60), by: TimeSpan.FromSeconds(40));
        var status = await WaitForWaveAsync(server, created.ActionId, 2);
        status.Waves!.Items.Select(w => w.StartedAt).Should().Equal(t0, t0 + TimeSpan.FromSeconds(60));
        status.Waves.State.Should().Be(ActionWaves.Done);
        foreach (var agent in agents)
        {
            (await server.GetAgentAsync(agent.Id)).PendingPushes.Should().Be(1, "each target's push is stored once, waiting for its poll");
            agent.Dispose();
        }
    }

    [Theory]
    [InlineData("""{"size":2,"percent":10}""", "waves: give either size")]
    [InlineData("""{"everySeconds":5}""", "waves: give either size")]
    [InlineData("""{"size":0}""", "waves.size: must be at least 1")]
    [InlineData("""{"percent":120}""", "waves.percent: must be more than 0 and at most 100")]
    [InlineData("""{"size":5,"everySeconds":-1}""", "waves.everySeconds: must be between 0 and 86400")]
    [InlineData("""{"size":5,"stopAfterFailedPercent":0}""", "waves.stopAfterFailedPercent: must be more than 0 and at most 100")]
    [InlineData("""{"size":5,"stopAfterFailedCount":0}""", "waves.stopAfterFailedCount: must be at least 1")]
    public async Task AWavePlanThatCannotWork_IsRefusedWith400AndTheReason(string waves, string reason)
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        foreach (var path in new[] { "task", "policy", "inventory" })
        {
            var body = path == "task" ? $$"""{"command":"echo","targets":{"all":true},"waves":{{waves}}}""" : $$"""{"targets":{"all":true},"waves":{{waves}}}""";
            using var response = await server.Admin.PostAsync($"{TcmPaths.Admin}/actions/{path}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, path);
            (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Detail.Should().StartWith(reason);
        }
    }

    [Fact]
    public async Task ATaskThroughTheTaskServers_WithWaves_IsRefused()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var response = await server.Admin.PostAsJsonAsync($"{TcmPaths.Admin}/actions/ts-task",
            new PushTaskRequest { Command = "echo", Targets = Targets.Everyone, Waves = new WavePlan { Size = 1 } }, ProtocolJsonContext.Default.PushTaskRequest);
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Detail.Should().Contain("actions/task sends one in waves");
    }

    [Fact]
    public async Task PolicyAndInventory_GoOutInWavesToo()
    {
        var (clock, t0) = NewClock();
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, time: clock);
        await using var fleet = await TestFleet.ConnectAsync(server, 2);
        var policy = await server.AdminPostAsync("/actions/policy", new PushPolicyRequest { Targets = Targets.Everyone, Waves = new WavePlan { Size = 1, EverySeconds = 5 } },
            ProtocolJsonContext.Default.PushPolicyRequest, ProtocolJsonContext.Default.ActionCreated);
        var inventory = await server.AdminPostAsync("/actions/inventory", new InventoryNowRequest { Targets = Targets.Everyone, Waves = new WavePlan { Size = 1, EverySeconds = 5 } },
            ProtocolJsonContext.Default.InventoryNowRequest, ProtocolJsonContext.Default.ActionCreated);
        (policy.SentOverChannel, inventory.SentOverChannel).Should().Be((1, 1));
        await fleet.Channels[0].ReceiveAsync<PolicyPushMessage>();
        await fleet.Channels[0].ReceiveAsync<InventoryRequestMessage>();

        await AdvanceWhenAsleepAsync(server, clock, t0 + Every);
        // The two actions' second waves are due at the same instant: the scheduler may send them in either order.
        var second = new List<Message>();
        while (!(second.OfType<PolicyPushMessage>().Any() && second.OfType<InventoryRequestMessage>().Any()))
        {
            second.Add(await fleet.Channels[1].ReceiveAsync());
        }

        second.OfType<PolicyPushMessage>().Should().ContainSingle().Which.Policy.Should().NotBeNull();
        second.OfType<InventoryRequestMessage>().Should().ContainSingle().Which.RequestId.Should().Be(inventory.ActionId);
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheWavesOfAnAction()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var document = await server.Admin.GetStringAsync("/openapi/v1.json");
        document.Should().Contain("\"WavePlan\"").And.Contain("everySeconds").And.Contain("stopAfterFailedPercent").And.Contain("stopAfterFailedCount")
            .And.Contain("\"ActionWaves\"").And.Contain("\"WaveStatus\"").And.Contain("not-sent");
    }

    private static Task<ActionCreated> PushAsync(NotificationServerHost server, WavePlan waves, string command) =>
        server.PushTaskAsync(new PushTaskRequest { Command = command, Targets = Targets.Everyone, Waves = waves });

    /// <summary>A manual clock at a whole millisecond of now (the store keeps milliseconds; certificates need the real date).</summary>
    private static (FakeTimeProvider Clock, DateTimeOffset T0) NewClock()
    {
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        return (new FakeTimeProvider(t0), t0);
    }

    private static Task WaitAsleepUntilAsync(NotificationServerHost server, DateTimeOffset until) =>
        Eventually.WaitAsync(
            _ => Task.FromResult(server.Services.GetRequiredService<WaveScheduler>().SleepsUntil),
            at => at == until,
            Eventually.DefaultDeadline,
            $"the wave scheduler to sleep until {until:O}");

    /// <summary>Moves the clock to <paramref name="until"/> once the scheduler sleeps until then (its timer armed), so no wake-up is missed.</summary>
    private static async Task AdvanceWhenAsleepAsync(NotificationServerHost server, FakeTimeProvider clock, DateTimeOffset until, TimeSpan? by = null)
    {
        await WaitAsleepUntilAsync(server, until);
        clock.Advance(by ?? until - clock.GetUtcNow());
    }

    private static Task<ActionStatus> WaitForWaveAsync(NotificationServerHost server, string actionId, int wave) =>
        Eventually.WaitAsync(ct => server.GetActionAsync(actionId, ct), s => s.Waves!.Items[wave - 1].StartedAt is not null, Eventually.DefaultDeadline, $"wave {wave} to be sent");

    private static Dictionary<string, int> WavesOf(ActionStatus status) => status.Targets.ToDictionary(t => t.ComputerName, t => t.Wave!.Value);

    private static async Task<long[]> PendingPushesAsync(NotificationServerHost server, TestFleet fleet, Range agents) =>
        await Task.WhenAll(fleet.Agents[agents].Select(async a => (await server.GetAgentAsync(a.Id)).PendingPushes));

    private static async Task AnswerAsync(TestFleet fleet, int index, string actionId, TaskState state)
    {
        var channel = fleet.Channels[index];
        var push = await channel.ReceiveAsync<TaskPushMessage>(p => p.TaskId == actionId);
        await channel.SendAsync(new TaskResultMessage { TaskId = actionId, IdempotencyKey = $"{fleet.Agents[index].Id}:{actionId}", State = state, ExitCode = state == TaskState.Succeeded ? 0 : 1, AckUpToSeq = push.Seq });
    }
}
