using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Tcm.Agent.Network;
using Tcm.Agent.State;
using Tcm.Agent.Tasks;

namespace Tcm.Functional.Tests;

/// <summary>
/// A real Notification Server on 127.0.0.1 and real agents: an action's not-after (an HTTP poller that comes back later does not run it),
/// an administrator's cancel (a running task stops; a poller's pending one never runs) and maintenance windows (a task waits for the
/// agent's window unless urgent).
/// </summary>
public sealed class ExpiryAndCancelTests(ITestOutputHelper output) : SystemTest(output)
{
    [Fact]
    public async Task HttpPoller_BackAfterTheNotAfter_DoesNotRunTheTask_AndReportsExpired()
    {
        var (ns, away) = await RegisterAgentThatGoesAwayAsync();
        var id = away.Id;

        var action = await ns.PushTaskAsync(TestTasks.Echo("too late", id) with { NotAfter = DateTimeOffset.UtcNow.AddMilliseconds(300) });

        // The server marks the target at its not-after, without waiting for the agent.
        var expired = (await WaitForStateAsync(ns, action.ActionId, TaskState.Expired)).Targets.Single();
        expired.ResultCount.Should().Be(0, "no agent reported: the server decided at the not-after");

        // The agent comes back, polls, gets the push and reports it expired without running it.
        var reported = await ComesBackAndReportsWithoutRunningAsync(ns, away, action.ActionId);
        reported.State.Should().Be(TaskState.Expired);
        reported.DeliveredVia.Should().Be("http");
    }

    [Fact]
    public async Task CancelOfARunningTask_StopsItOnTheAgent_WhichReportsCancelled()
    {
        var (ns, id, executor) = await StartWithAConnectedAgentAsync("PC-LONG");
        var action = await ns.PushTaskAsync(TestTasks.Sleep(3600, id));
        await WaitForStateAsync(ns, action.ActionId, TaskState.Running);

        var cancelled = await CancelAsync(ns, action.ActionId);

        cancelled.Should().Be(new ActionCancelled(action.ActionId, Cancelled: 0, CancelsSent: 1, Running: 1));
        var target = (await WaitForStateAsync(ns, action.ActionId, TaskState.Cancelled)).Targets.Single();
        target.ResultCount.Should().Be(1, "the agent stopped the hour-long task and reported it");
        target.Output.Should().Be("cancelled by an administrator");
        executor.Runs.Should().ContainSingle();
    }

    [Fact]
    public async Task TaskPastItsTimeLimit_IsStoppedOnTheAgent_WhichReportsTimedOut()
    {
        var (ns, id, executor) = await StartWithAConnectedAgentAsync("PC-SLOW");

        var action = await ns.PushTaskAsync(TestTasks.Sleep(3600, id) with { TimeoutSeconds = 1 });

        var target = (await WaitForStateAsync(ns, action.ActionId, TaskState.TimedOut)).Targets.Single();
        target.ResultCount.Should().Be(1, "the agent stopped the hour-long task at its one-second limit and reported it");
        target.Output.Should().Be("timed out after 1 s");
        executor.Runs.Should().ContainSingle();
    }

    [Fact]
    public async Task CancelOfAPollersPendingTask_MarksItCancelled_AndThePollerNeverRunsIt()
    {
        var (ns, away) = await RegisterAgentThatGoesAwayAsync();
        var id = away.Id;

        var action = await ns.PushTaskAsync(TestTasks.Echo("never", id));
        (await CancelAsync(ns, action.ActionId)).Should().Be(new ActionCancelled(action.ActionId, Cancelled: 1, CancelsSent: 0, Running: 0));
        (await ns.GetActionAsync(action.ActionId)).Targets.Single().State.Should().Be(TaskState.Cancelled);

        var target = await ComesBackAndReportsWithoutRunningAsync(ns, away, action.ActionId);
        target.State.Should().Be(TaskState.Cancelled, "the administrator's cancel stands");
    }

    [Fact]
    public async Task MaintenanceWindow_NotUrgentTaskWaitsForIt_UrgentOneRunsAtOnce()
    {
        var ns = await StartNotificationServerAsync();
        // why: the agent's clock is manual, started at the real time so the certificates it checks are valid.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var now = time.GetUtcNow();
        var opensAt = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddHours(2);
        var window = new MaintenanceWindow
        {
            Start = opensAt.ToString("HH:mm", CultureInfo.InvariantCulture),
            End = opensAt.AddHours(1).ToString("HH:mm", CultureInfo.InvariantCulture),
        };
        var settings = new TargetedAgentSettings { Name = "night", Settings = new AgentSettings { MaintenanceWindows = [window] } };
        (await ns.Admin.PostAsJsonAsync($"{TcmPaths.Admin}/agent-settings", settings, ProtocolJsonContext.Default.TargetedAgentSettings)).EnsureSuccessStatusCode();
        var executor = new CountingExecutor(time);
        var agent = Own(new TcmAgent(RealAgents.Options(await ns.Info.CreateInstallPackageAsync(), "PC-NIGHT"), new OsNetwork(), new InMemoryAgentStateStore(),
            executor, time, XunitLoggerProvider.CreateFactory(Output, "PC-NIGHT")));
        await agent.StartAsync(CancellationToken.None);
        var id = await RealAgents.WaitForIdAsync(agent);
        await Eventually.WaitAsync(() => agent.Policy?.Settings.MaintenanceWindows is { Count: 1 }, Deadline, "the policy with the window");

        var urgent = await ns.PushTaskAsync(TestTasks.Echo("now", id) with { Urgent = true });
        await WaitForStateAsync(ns, urgent.ActionId, TaskState.Succeeded);
        var routine = await ns.PushTaskAsync(TestTasks.Echo("tonight", id));
        await WaitForStateAsync(ns, routine.ActionId, TaskState.Delivered);

        // The agent's clock moves on ten minutes at a time until the task ran.
        await WaitForActionAsync(ns, routine.ActionId, s =>
        {
            time.Advance(TimeSpan.FromMinutes(10));
            return s.Targets.Single().State == TaskState.Succeeded;
        }, "the task to run when the window opens");

        executor.Runs.Should().HaveCount(2);
        executor.Runs[0].Should().BeBefore(opensAt, "the urgent task did not wait");
        executor.Runs[1].Should().BeOnOrAfter(opensAt, "the other waited for the window").And.BeOnOrBefore(opensAt.AddMinutes(10));
    }

    /// <summary>
    /// A server without channels (TCM off) and an agent that registered with it, polled once an hour and stopped: what is pushed to it now
    /// waits until it comes back (the same agent: its state kept), then polls every 300 ms.
    /// </summary>
    private async Task<(NotificationServerHost Ns, AwayAgent Agent)> RegisterAgentThatGoesAwayAsync()
    {
        var ns = await StartNotificationServerAsync(tcmEnabled: false);
        var package = await ns.Info.CreateInstallPackageAsync();
        var state = new InMemoryAgentStateStore();
        var executor = new CountingExecutor(TimeProvider.System);
        Task<TcmAgent> StartAsync(TimeSpan poll) => RealAgents.StartAsync(RealAgents.Options(package, "PC-AWAY", poll), Output, executor: executor, state: state);
        await using var first = await StartAsync(TimeSpan.FromHours(1));
        var id = await RealAgents.WaitForIdAsync(first);
        return (ns, new AwayAgent(id, executor, async () => Own(await StartAsync(TimeSpan.FromMilliseconds(300)))));
    }

    /// <summary>A server and one agent on its channel, running tasks with the built-in executor on the real clock.</summary>
    private async Task<(NotificationServerHost Ns, string AgentId, CountingExecutor Executor)> StartWithAConnectedAgentAsync(string computerName)
    {
        var ns = await StartNotificationServerAsync();
        var executor = new CountingExecutor(TimeProvider.System);
        var agent = await StartAgentAsync(RealAgents.Options(await ns.Info.CreateInstallPackageAsync(), computerName), executor: executor);
        var id = await RealAgents.WaitForIdAsync(agent);
        await WaitForStatusAsync(agent, s => s.Transport == TransportKind.Persistent, "the channel");
        return (ns, id, executor);
    }

    /// <summary>The agent comes back and polls: its one result for the action says it did not run the task, and it did not.</summary>
    private static async Task<ActionTargetStatus> ComesBackAndReportsWithoutRunningAsync(NotificationServerHost ns, AwayAgent away, string actionId)
    {
        await away.ComeBackAsync();
        var target = (await WaitForActionAsync(ns, actionId, s => s.Targets.Single().ResultCount == 1, "the agent's result")).Targets.Single();
        target.Output.Should().StartWith("not run");
        away.Executor.Runs.Should().BeEmpty();
        return target;
    }

    private sealed record AwayAgent(string Id, CountingExecutor Executor, Func<Task> ComeBackAsync);

    private static async Task<ActionCancelled> CancelAsync(NotificationServerHost ns, string actionId)
    {
        using var response = await ns.Admin.PostAsync($"{TcmPaths.Admin}/actions/{actionId}/cancel", null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ActionCancelled))!;
    }

    /// <summary>The built-in executor that notes, on the agent's clock, when it ran each task.</summary>
    private sealed class CountingExecutor(TimeProvider time) : ITaskExecutor
    {
        private readonly BuiltInTaskExecutor _inner = new(time);
        private readonly List<DateTimeOffset> _runs = [];

        public IReadOnlyList<DateTimeOffset> Runs
        {
            get
            {
                lock (_runs)
                {
                    return [.. _runs];
                }
            }
        }

        public ValueTask<TaskOutcome> ExecuteAsync(TaskPushMessage task, CancellationToken cancellationToken)
        {
            lock (_runs)
            {
                _runs.Add(time.GetUtcNow());
            }

            return _inner.ExecuteAsync(task, cancellationToken);
        }

        public ValueTask<BasicInventory> CollectInventoryAsync(IReadOnlyList<string>? classes, CancellationToken cancellationToken) =>
            _inner.CollectInventoryAsync(classes, cancellationToken);
    }
}
