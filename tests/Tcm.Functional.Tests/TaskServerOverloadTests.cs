using System.Collections.Concurrent;
using Tcm.Agent.Tasks;

namespace Tcm.Functional.Tests;

/// <summary>
/// A small Task Server given more fan-outs than it carries (a real NS, a real Task Server with a push window of two, real agents):
/// the rest wait stored and say so, then every fan-out completes, each task run once, one result per target, nothing lost.
/// </summary>
public sealed class TaskServerOverloadTests(ITestOutputHelper output) : SystemTest(output)
{
    private const int AgentCount = 3;
    private const int FanOuts = 5;
    private const int Window = 2;

    [Fact]
    public async Task FanOutsBeyondWhatASmallTaskServerCarries_WaitStoredAndSaySo_ThenEveryOneCompletesOnce_InOrder()
    {
        var ns = await StartNotificationServerAsync();
        var ts = Own(await TaskServerHost.StartAsync(Output, ns, "ts-small", maxAgents: AgentCount, configure: o => o.MaxPushesInFlight = Window));
        await WaitForTaskServersOnlineAsync(ns, 1);
        using var gate = new ManualResetEventSlim();
        var executed = new ConcurrentQueue<(string Agent, long Seq, string TaskId)>();
        try
        {
            var ids = new List<string>();
            for (var i = 0; i < AgentCount; i++)
            {
                var package = await ns.Info.CreateInstallPackageAsync();
                // why: an agent sends a held acknowledgement on its own after AckHoldLimit (500 ms by default), which would free the
                // window while the tasks are still held and make the held-back state below a race; here the results carry them.
                var options = RealAgents.Options(package, $"PC-O{i}") with { AckHoldLimit = TimeSpan.FromMinutes(5) };
                var agent = await StartAgentAsync(options, executor: new HoldingExecutor($"PC-O{i}", gate, executed));
                ids.Add(await RealAgents.WaitForIdAsync(agent));
                await Eventually.WaitAsync(() => agent.GetNetworkStatus().TaskServer, s => s?.Transport == TransportKind.Persistent, Deadline, "the Client Task Agent's channel");
            }

            await WaitForTaskServersAsync(ns, l => l.Single().ConnectedAgents == AgentCount, "the NS to see every agent connected at the Task Server");

            // More than the window carries: the agents hold their tasks, so none is acknowledged and all but two pushes wait, stored.
            var actions = new List<ActionCreated>();
            for (var f = 0; f < FanOuts; f++)
            {
                actions.Add(await ns.PushThroughTaskServersAsync(TestTasks.Echo($"fan-out {f}", [.. ids])));
            }

            const int total = AgentCount * FanOuts;
            await Eventually.WaitAsync(() => (ts.Info.WaitingPushes, ts.Info.PushesInFlight), n => n == (total - Window, Window), Deadline,
                "the Task Server to hold all but the window's pushes back");
            using var admin = ts.CreateAdminClient();
            // why: Eventually, because the exporter may answer a scrape from its short cache.
            var during = await Eventually.WaitAsync(ct => PrometheusScrape.ScrapeAsync(admin, ct),
                m => (m.Sum("tcm_ts_pushes_waiting"), m.Sum("tcm_ts_pushes_in_flight")) == (total - Window, Window), Deadline, "the queued work in /metrics");
            during.Sum("tcm_ts_pushes_sent_total").Should().Be(Window);
            foreach (var action in actions)
            {
                var progress = await ns.GetActionAsync(action.ActionId);
                (progress.Counts["succeeded"], progress.Targets.Count).Should().Be((0, AgentCount), "the admin API shows every fan-out still open");
            }

            gate.Set();

            foreach (var action in actions)
            {
                var status = await WaitForActionAsync(ns, action.ActionId, s => s.Counts["succeeded"] == AgentCount, $"fan-out {action.ActionId} to complete");
                status.Targets.Should().OnlyContain(t => t.ResultCount == 1 && t.DeliveredVia == "persistent", "one result per target, none lost or stored twice");
            }

            executed.Should().HaveCount(total, "each task ran once").And.OnlyHaveUniqueItems(e => e.Agent + ":" + e.TaskId);
            for (var i = 0; i < AgentCount; i++)
            {
                var mine = executed.Where(e => e.Agent == $"PC-O{i}").OrderBy(e => e.Seq).ToList();
                mine.Select(e => e.Seq).Should().Equal(Enumerable.Range(1, FanOuts).Select(n => (long)n), "each agent's pushes once, in sequence");
                mine.Select(e => e.TaskId).Should().Equal(actions.Select(a => a.ActionId), "fan-outs reach an agent in the order they were made");
            }

            await Eventually.WaitAsync(() => ts.Info.PendingForwards, n => n == 0, Deadline, "the Task Server's outbox to drain");
            (ts.Info.WaitingPushes, ts.Info.PushesInFlight).Should().Be((0, 0L));
            var after = await Eventually.WaitAsync(ct => PrometheusScrape.ScrapeAsync(admin, ct),
                m => (m.Sum("tcm_ts_pushes_waiting"), m.Sum("tcm_ts_pushes_in_flight")) == (0, 0), Deadline, "no queued work left in /metrics");
            after.Sum("tcm_ts_pushes_sent_total").Should().Be(total, "every push written to a channel once, the waves included");
            after.Sum("tcm_ts_results_received_total").Should().Be(total);
            after.Sum("tcm_ts_results_duplicate_total").Should().Be(0);
        }
        finally
        {
            gate.Set();
        }
    }

    /// <summary>
    /// Holds every task until the test opens the gate, on the agent's task thread: the task then finishes as the call returns, so its
    /// result carries the acknowledgement of its push and nothing frees the Task Server's window before the gate opens.
    /// </summary>
    private sealed class HoldingExecutor(string computerName, ManualResetEventSlim gate, ConcurrentQueue<(string Agent, long Seq, string TaskId)> executed) : ITaskExecutor
    {
        private readonly BuiltInTaskExecutor _inner = new();

        public ValueTask<TaskOutcome> ExecuteAsync(TaskPushMessage task, CancellationToken cancellationToken)
        {
            gate.Wait(Deadline, cancellationToken);
            executed.Enqueue((computerName, task.Seq, task.TaskId));
            return _inner.ExecuteAsync(task, cancellationToken);
        }

        public ValueTask<BasicInventory> CollectInventoryAsync(IReadOnlyList<string>? classes, CancellationToken cancellationToken) =>
            _inner.CollectInventoryAsync(classes, cancellationToken);
    }
}
