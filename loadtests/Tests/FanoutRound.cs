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
        new("--warmup", "fan-outs before the measured phase, measured nowhere: each server process (a fresh one) compiles and recompiles its hot paths there (tiered PGO), not in the figures", "10"),
        new("--warmup-interval", "time between the starts of two warm-up fan-outs (one that takes longer starts the next at once)", "1s"),
    ];

    /// <summary>Runs one fan-out to the <paramref name="agents"/> agents this process holds.</summary>
    public static async Task<Response> RunAsync(ScenarioContext ctx, TestContext context, int agents, int size, TimeSpan timeout, FanoutCost cost)
    {
        FanoutResult? result = null;
        var response = await Step.Run("fanout", ctx, async () =>
        {
            result = await context.Target.PushToAllAsync(size, timeout, ctx.CancellationToken).ConfigureAwait(false);
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
    /// <see cref="IFanoutAudit"/>), waiting up to one more <paramref name="timeout"/> for late results. Gauges <c>fanouts-complete</c>,
    /// <c>fanouts-late</c>, <c>results-missing</c> and <c>results-duplicated</c>, so a failed fan-out reads as late or as lost.
    /// </summary>
    public static async Task AuditAsync(ScenarioInitContext ctx, TestContext context, TimeSpan timeout)
    {
        if (context.Target is not IFanoutAudit target)
        {
            return;
        }

        var audit = await target.AuditAsync(timeout, ctx.CancellationToken).ConfigureAwait(false);
        ctx.Gauges.Set("fanouts-complete", audit.Complete, "", GaugeMerge.Sum, $"fan-outs (of {audit.FanOuts}, warm-up included) with every target's result stored by the end of the run");
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
        var observer = new DeliveryObserver(ctx, cost);
        if (context.Target is IAgentFleetTarget agents)
        {
            await agents.PrepareFleetAsync(context.AgentOffset, context.Agents, context.GetInt("--connect-concurrency"), ctx.CancellationToken).ConfigureAwait(false);
        }

        await fleet.ConnectAsync(context, ctx, context.Agents, context.GetInt("--connect-concurrency"), observer, ctx.CancellationToken).ConfigureAwait(false);
        ctx.Gauges.Set("agents", fleet.Count, "", GaugeMerge.Sum, "agents connected for the fan-outs");
        ctx.Gauges.Set(GaugeSet.Connections, fleet.Count, "agents", GaugeMerge.Sum, "agents connected");

        // A client sees its upgrade complete a moment before the server has registered the socket: let it settle.
        await Task.Delay(TimeSpan.FromSeconds(1), context.Time, ctx.CancellationToken).ConfigureAwait(false);
        await WarmUpAsync(ctx, context, observer).ConfigureAwait(false);
        await cost.StartAsync(context.Target, ctx.Gauges, ctx.CancellationToken).ConfigureAwait(false);
    }

    // why: a fresh server process spends its first fan-outs in the JIT: tier-0 code, then the instrumented tier and the tier-1
    // recompiles of tiered PGO, which the runtime's background thread works through over seconds, not calls. Two fan-outs back to back
    // left it compiling through the first five measured fan-outs (about 15% of the Notification Server's CPU there, 17 to 23% of the
    // Task Server's and the gateway's in a profile), so the warm-up runs at a pace, about as long as that took; the baseline gets the
    // same warm-up, so the two stay comparable.
    private static async Task WarmUpAsync(ScenarioInitContext ctx, TestContext context, DeliveryObserver observer)
    {
        var rounds = Math.Max(0, context.GetInt("--warmup"));
        var pace = context.GetDuration("--warmup-interval");
        var size = Math.Max(16, context.GetInt("--size"));
        var timeout = context.GetDuration("--timeout");
        var echoed = 0;
        for (var round = 0; round < rounds; round++)
        {
            var started = context.Time.GetTimestamp();
            var result = await context.Target.PushToAllAsync(size, timeout, ctx.CancellationToken).ConfigureAwait(false);
            echoed += result.Echoed;
            var left = pace - context.Time.GetElapsedTime(started);
            if (round < rounds - 1 && left > TimeSpan.Zero)
            {
                await Task.Delay(left, context.Time, ctx.CancellationToken).ConfigureAwait(false);
            }
        }

        // why: a late echo of the warm-up would be counted in the measured phase; each warm-up fan-out waited for its echoes (or its timeout).
        observer.Measuring = true;
        if (rounds > 0)
        {
            ctx.Gauges.Set("warmup-fanouts", rounds, "", GaugeMerge.Max, $"fan-outs before the measured phase (--warmup, one every {DurationText.Format(pace)}), {echoed} echoes, in no figure");
        }
    }

    private sealed class DeliveryObserver(ScenarioInitContext scenario, FanoutCost cost) : IPushObserver
    {
        /// <summary>False during the warm-up: its deliveries are in no figure.</summary>
        public volatile bool Measuring;

        public void OnPushDelivered(TimeSpan latency, int sizeBytes)
        {
            if (!Measuring)
            {
                return;
            }

            scenario.Measure("deliver", latency, sizeBytes);
            cost.OnDelivered();
        }
    }
}
