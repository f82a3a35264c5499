namespace Tcm.LoadTests.Tests;

/// <summary>
/// push-fanout: N agents connected (in init); then, open model, one fan-out every <c>--interval</c>: the server sends a
/// small message to every agent and each echoes it back. Steps: <c>fanout</c> (one sample per round: until the last echo is
/// back), <c>deliver</c> (per message: server send to agent receive) and <c>round-trip</c> (per message: send to echo
/// received by the server; where the target reads them from the server, read once after the fan-outs, <see cref="LaterRoundTrips"/>).
/// The CPU time of every server process and of the load generator over the fan-outs, per delivered task and per stored result
/// (<see cref="FanoutCost"/>).
/// </summary>
internal sealed class PushFanoutTest() : LoadTest(Info)
{
    private static readonly LoadTestInfo Info = new("push-fanout", "N connected; the server pushes a small message to all, each echoes it: delivery and round-trip percentiles")
    {
        DefaultDuration = TimeSpan.FromSeconds(30),
        DurationMeaning = "how long fan-outs are started (one every --interval)",
        Parameters =
        [
            new("--interval", "time between two fan-outs", "1s"),
            .. FanoutRound.Parameters,
        ],
        DefaultRoutes = LoadTestInfo.DirectAndGateway,
        NsDeployments = true,
        RelayBaseline = true,
        DefaultThresholds = ["fanout: fail% < 0.1", "deliver: p99 < 1s", "round-trip: p99 < 2s"],
    };

    public override IReadOnlyList<ScenarioProps> Build(TestContext context)
    {
        var size = Math.Max(16, context.GetInt("--size"));
        var timeout = context.GetDuration("--timeout");
        var interval = context.GetDuration("--interval");
        var fleet = new ConnectedFleet();
        var cost = new FanoutCost();
        var scenario = Scenario.Create(context.ScenarioName(Name), ctx => FanoutRound.RunAsync(ctx, context, fleet.Count, size, timeout, cost))
            .WithInit(async ctx =>
            {
                // why twice: the warm-up reads nothing per fan-out either (it warms what the measured phase runs), and its fan-outs are forgotten.
                LaterRoundTrips.From(context);
                await FanoutRound.ConnectFleetAsync(ctx, context, fleet, cost).ConfigureAwait(false);
                LaterRoundTrips.From(context);
            })
            .WithClean(async ctx =>
            {
                cost.Stop(ctx.Gauges, context.Target.Variant, context.Shards);
                await LaterRoundTrips.RecordAsync(ctx, context).ConfigureAwait(false);
                await FanoutRound.AuditAsync(ctx, context, timeout).ConfigureAwait(false);
                await fleet.DisposeAsync().ConfigureAwait(false);
            })
            .WithLoadSimulations(Simulation.Inject(1, interval, context.Duration))
            .WithStopGrace(timeout + TimeSpan.FromSeconds(5));
        return [scenario];
    }
}
