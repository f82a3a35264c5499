namespace Tcm.LoadTests.Tests;

/// <summary>
/// One fan-out as the push tests measure it: the server pushes a small message (a task) to every agent of this process and
/// waits for the echoes (results). Step <c>fanout</c> (until the last echo) is ok only when every agent was reached and
/// answered; the round trips go to step <c>round-trip</c>, the results to the run's <see cref="FanoutCost"/>.
/// </summary>
internal static class FanoutRound
{
    /// <summary>The options of a fan-out, the same in every push test.</summary>
    public static IReadOnlyList<TestParameter> Parameters { get; } =
    [
        new("--size", "message size in bytes (at least 16)", "64"),
        new("--timeout", "how long a fan-out waits for the echoes", "10s"),
        new("--connect-concurrency", "agents connecting at once while the fleet is set up", "256"),
        new("--warmup", "full fan-outs (to every agent) before the measured phase, in no figure: the per-agent paths of every process compile and recompile there (tiered PGO), not in the figures", "10"),
        new("--warmup-interval", "time between the starts of two full warm-up fan-outs (one that takes longer starts the next at once)", "500ms"),
        new("--warmup-small", "then small fan-outs to the warm-up agents only (--warmup-agents), in no figure: the code every fan-out runs once (the admin request, the action, the round's bookkeeping, in the server and in this process) runs this many more times, past the runtime's tier-1 promotion (30 calls, twice with PGO's instrumented tier)", "80"),
        new("--warmup-small-interval", "time between the starts of two small warm-up fan-outs", "100ms"),
        new("--warmup-agents", "agents outside the fleet that receive the small warm-up fan-outs, connected for them and closed before the measured phase", "8"),
        new("--warmup-settle", "pause after the warm-up before the measured phase, for the runtime's tiering thread to finish the recompiles the warm-up queued", "2s"),
    ];

    /// <summary>Runs one fan-out to the <paramref name="agents"/> agents this process holds.</summary>
    public static Task<Response> RunAsync(ScenarioContext ctx, TestContext context, int agents, int size, TimeSpan timeout, FanoutCost cost) =>
        RunAsync(ctx, context, agents, size, timeout, cost, warmUpAgents: false);

    // why one body for both: the warm-up runs the measured round's own code (into statistics it drops), so that code is compiled there.
    private static async Task<Response> RunAsync(ScenarioContext ctx, TestContext context, int agents, int size, TimeSpan timeout, FanoutCost cost, bool warmUpAgents)
    {
        FanoutResult? result = null;
        var response = await Step.Run("fanout", ctx, async () =>
        {
            result = warmUpAgents
                ? await context.Target.PushToWarmUpAgentsAsync(size, timeout, ctx.CancellationToken).ConfigureAwait(false)
                : await context.Target.PushToAllAsync(size, timeout, ctx.CancellationToken).ConfigureAwait(false);
            if (result.Sent + result.SendFailures < agents)
            {
                return Response.Fail($"the server reached {result.Sent + result.SendFailures} of {agents} agents");
            }

            return result.Echoed >= result.Sent && result.SendFailures == 0
                ? Response.Ok(sizeBytes: (long)result.Sent * size)
                : Response.Fail($"{result.Sent - result.Echoed} of {result.Sent} echoes missing, {result.SendFailures} sends failed");
        }).ConfigureAwait(false);
        if (result is not null)
        {
            cost.OnResults(result.Echoed);
            ctx.MeasureHistogram("round-trip", LogHistogram.FromData(result.RoundTrip), result.Echoed * (long)size);
            ctx.Gauges.Set("last-fanout-all-echoed", result.TimeToAllEchoedMs, "ms", GaugeMerge.Max, "last round: first send to last echo, at the server");
        }

        return response;
    }

    /// <summary>
    /// After the fan-outs, with the fleet still connected: what became of each fan-out this process made (a target that keeps them,
    /// <see cref="IFanoutAudit"/>), waiting up to one more <paramref name="timeout"/> for late results. Gauges <c>fanouts-audited</c>, <c>fanouts-complete</c>,
    /// <c>fanouts-late</c>, <c>results-missing</c> and <c>results-duplicated</c>, so a failed fan-out reads as late or as lost.
    /// </summary>
    public static async Task AuditAsync(ScenarioInitContext ctx, TestContext context, TimeSpan timeout)
    {
        if (context.Target is not IFanoutAudit target)
        {
            return;
        }

        var audit = await target.AuditAsync(timeout, ctx.CancellationToken).ConfigureAwait(false);
        // why the count in a gauge of its own: the gauges of several load processes are summed, their texts are not.
        ctx.Gauges.Set("fanouts-audited", audit.FanOuts, "", GaugeMerge.Sum, "fan-outs audited after the run: the measured ones and the full warm-up ones");
        ctx.Gauges.Set("fanouts-complete", audit.Complete, "", GaugeMerge.Sum, "fan-outs (of fanouts-audited) with every target's result stored by the end of the run");
        ctx.Gauges.Set("fanouts-late", audit.Late, "", GaugeMerge.Sum, "fan-outs with a result stored after the fan-out's timeout (late, not lost)");
        ctx.Gauges.Set("results-missing", audit.ResultsMissing, "", GaugeMerge.Sum, "targets with no result by the end of the run (lost, or later still)");
        ctx.Gauges.Set("results-duplicated", audit.ResultsDuplicated, "", GaugeMerge.Sum, "results stored more than once for one target");
    }

    /// <summary>
    /// Connects the fleet of this process (step <c>connect</c>), lets it settle, runs the <c>--warmup</c> fan-outs, and starts
    /// measuring the cost: the init of every push test. Deliveries the agents see after the warm-up go to step <c>deliver</c> and to
    /// <paramref name="cost"/>.
    /// </summary>
    public static async Task ConnectFleetAsync(ScenarioInitContext ctx, TestContext context, ConnectedFleet fleet, FanoutCost cost)
    {
        var warmUp = new ScenarioContext(new ScenarioRuntime(ctx.ScenarioName + " (warm-up)", ctx.TimeProvider, ctx.CancellationToken, _ => { }), 0, ctx.CancellationToken);
        var observer = new DeliveryObserver(warmUp, new FanoutCost());
        if (context.Target is IAgentFleetTarget agents)
        {
            await agents.PrepareFleetAsync(context.AgentOffset, context.Agents, context.GetInt("--connect-concurrency"), ctx.CancellationToken).ConfigureAwait(false);
        }

        await fleet.ConnectAsync(context, ctx, context.Agents, context.GetInt("--connect-concurrency"), observer, ctx.CancellationToken).ConfigureAwait(false);
        ctx.Gauges.Set("agents", fleet.Count, "", GaugeMerge.Sum, "agents connected for the fan-outs");
        ctx.Gauges.Set(GaugeSet.Connections, fleet.Count, "agents", GaugeMerge.Sum, "agents connected");

        // A client sees its upgrade complete a moment before the server has registered the socket: let it settle.
        await Task.Delay(TimeSpan.FromSeconds(1), context.Time, ctx.CancellationToken).ConfigureAwait(false);
        await WarmUpAsync(ctx, warmUp, context, fleet.Count, observer).ConfigureAwait(false);

        // why after: a late echo of the warm-up would be counted in the measured phase; each warm-up fan-out waited for its echoes (or its timeout).
        observer.RecordInto(ctx, cost);
        await cost.StartAsync(context.Target, ctx.Gauges, ctx.CancellationToken).ConfigureAwait(false);
    }

    // why: a fresh process compiles its hot paths at tier 0, then (tiered PGO) at an instrumented tier and at tier 1, each step after
    // 30 calls and a 100 ms call-counting delay that new tier-0 work restarts, on one background thread. The per-agent paths get their
    // calls from the full fan-outs (2,000 an agent's path, each; ten, since the Task Server's paths under a burst, such as TLS's chunked
    // writes, get a few calls a fan-out, and three left them compiling in the window); the code a fan-out runs once (the admin request
    // and the action in the server, the admin client and the round's bookkeeping here) got 10 calls from the paced full warm-up and
    // reached tier 1 only about 20 s into the measured phase (JIT in the window: 7 to 10% of the NS's CPU, 12.8% of this process's tiering thread). So the warm-up
    // ends with many small fan-outs to a few agents of its own, through the measured round's own code, then a pause for the tiering
    // thread. The baseline gets exactly the same warm-up; nothing a running server keeps paying moves out of the window.
    private static async Task WarmUpAsync(ScenarioInitContext ctx, ScenarioContext warmUp, TestContext context, int agents, DeliveryObserver observer)
    {
        var (full, pace) = (Math.Max(0, context.GetInt("--warmup")), context.GetDuration("--warmup-interval"));
        var (small, smallPace) = (Math.Max(0, context.GetInt("--warmup-small")), context.GetDuration("--warmup-small-interval"));
        var warmUpAgents = small > 0 ? Math.Max(0, context.GetInt("--warmup-agents")) : 0;
        var settle = context.GetDuration("--warmup-settle");
        var size = Math.Max(16, context.GetInt("--size"));
        var timeout = context.GetDuration("--timeout");
        var cost = new FanoutCost();
        await PacedAsync(full, pace, () => RunAsync(warmUp, context, agents, size, timeout, cost, warmUpAgents: false), context, ctx.CancellationToken).ConfigureAwait(false);
        if (warmUpAgents > 0)
        {
            var channels = await Task.WhenAll(Enumerable.Range(1, warmUpAgents).Select(i => context.Target.ConnectAsync(-i, observer, ctx.CancellationToken))).ConfigureAwait(false);
            try
            {
                await PacedAsync(small, smallPace, () => RunAsync(warmUp, context, warmUpAgents, size, timeout, cost, warmUpAgents: true), context, ctx.CancellationToken).ConfigureAwait(false);
            }
            finally
            {
                foreach (var channel in channels)
                {
                    await channel.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        if (full + warmUpAgents > 0 && settle > TimeSpan.Zero)
        {
            await Task.Delay(settle, context.Time, ctx.CancellationToken).ConfigureAwait(false);
        }

        var failed = warmUp.Runtime.Step("fanout").FailCount;
        ctx.Gauges.Set("warmup-fanouts", full + (warmUpAgents > 0 ? small : 0), "", GaugeMerge.Max,
            $"fan-outs before the measured phase, in no figure: {full} to every agent (--warmup, one every {DurationText.Format(pace)}), "
            + (warmUpAgents > 0 ? $"{small} to {warmUpAgents} warm-up agents (--warmup-small, one every {DurationText.Format(smallPace)}), " : "")
            + $"then {DurationText.Format(settle)} for the tiering thread");
        ctx.Gauges.Set("warmup-fanouts-failed", failed, "", GaugeMerge.Sum, "warm-up fan-outs that failed (an agent not reached or not answering within --timeout)");
    }

    /// <summary>Runs <paramref name="round"/> <paramref name="rounds"/> times, starting one every <paramref name="pace"/> (at once after one that took longer).</summary>
    private static async Task PacedAsync(int rounds, TimeSpan pace, Func<Task<Response>> round, TestContext context, CancellationToken cancellationToken)
    {
        for (var i = 0; i < rounds; i++)
        {
            var started = context.Time.GetTimestamp();
            await round().ConfigureAwait(false);
            var left = pace - context.Time.GetElapsedTime(started);
            if (i < rounds - 1 && left > TimeSpan.Zero)
            {
                await Task.Delay(left, context.Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The agents' deliveries, into the warm-up's statistics (dropped) until <see cref="RecordInto"/> names the measured ones: the same code either way.</summary>
    private sealed class DeliveryObserver(ScenarioInitContext scenario, FanoutCost cost) : IPushObserver
    {
        private volatile Sink _sink = new(scenario, cost);

        public void RecordInto(ScenarioInitContext measured, FanoutCost measuredCost) => _sink = new Sink(measured, measuredCost);

        public void OnPushDelivered(TimeSpan latency, int sizeBytes)
        {
            var sink = _sink;
            sink.Scenario.Measure("deliver", latency, sizeBytes);
            sink.Cost.OnDelivered();
        }

        private sealed record Sink(ScenarioInitContext Scenario, FanoutCost Cost);
    }
}
