namespace Tcm.LoadTests.Tests;

/// <summary>
/// push-fanout: N agents connected (in init); then, open model, one fan-out every <c>--interval</c>: the server sends a
/// small message to every agent and each echoes it back. Steps: <c>fanout</c> (one sample per round: until the last echo is
/// back), <c>deliver</c> (per message: server send to agent receive) and <c>round-trip</c> (per message: send to echo
/// received by the server).
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
            new("--size", "message size in bytes (at least 16)", "64"),
            new("--timeout", "how long a fan-out waits for the echoes", "10s"),
            new("--connect-concurrency", "agents connecting at once while the fleet is set up", "256"),
        ],
        DefaultRoutes = LoadTestInfo.DirectAndGateway,
        DefaultThresholds = ["fanout: fail% < 0.1", "deliver: p99 < 1s", "round-trip: p99 < 2s"],
    };

    public override IReadOnlyList<ScenarioProps> Build(TestContext context)
    {
        var size = Math.Max(16, context.GetInt("--size"));
        var timeout = context.GetDuration("--timeout");
        var interval = context.GetDuration("--interval");
        var fleet = new ConnectedFleet();
        ScenarioInitContext? scenarioContext = null;
        var observer = new DeliveryObserver(() => scenarioContext);
        var scenario = Scenario.Create(context.ScenarioName(Name), async ctx =>
            {
                FanoutResult? result = null;
                var response = await Step.Run("fanout", ctx, async () =>
                {
                    result = await context.Target.PushToAllAsync(size, timeout, ctx.CancellationToken).ConfigureAwait(false);
                    if (result.Sent + result.SendFailures < fleet.Count)
                    {
                        return Response.Fail($"the server reached {result.Sent + result.SendFailures} of {fleet.Count} agents");
                    }

                    return result.Echoed >= result.Sent && result.SendFailures == 0
                        ? Response.Ok(sizeBytes: (long)result.Sent * size)
                        : Response.Fail($"{result.Sent - result.Echoed} of {result.Sent} echoes missing, {result.SendFailures} sends failed");
                }).ConfigureAwait(false);
                if (result is not null)
                {
                    ctx.MeasureHistogram("round-trip", LogHistogram.FromData(result.RoundTrip), result.Echoed * (long)size);
                    ctx.Gauges.Set("last-fanout-all-echoed", result.TimeToAllEchoedMs, "ms", GaugeMerge.Max, "last round: first send to last echo, at the server");
                }

                return response;
            })
            .WithInit(async ctx =>
            {
                scenarioContext = ctx;
                await fleet.ConnectAsync(context, ctx, context.Agents, context.GetInt("--connect-concurrency"), observer, ctx.CancellationToken).ConfigureAwait(false);
                ctx.Gauges.Set("agents", fleet.Count, "", GaugeMerge.Sum, "agents connected for the fan-outs");
                ctx.Gauges.Set(GaugeSet.Connections, fleet.Count, "agents", GaugeMerge.Sum, "agents connected");

                // A client sees its upgrade complete a moment before the server has registered the socket: let it settle.
                await Task.Delay(TimeSpan.FromSeconds(1), context.Time, ctx.CancellationToken).ConfigureAwait(false);
            })
            .WithClean(async _ => await fleet.DisposeAsync().ConfigureAwait(false))
            .WithLoadSimulations(Simulation.Inject(1, interval, context.Duration))
            .WithStopGrace(timeout + TimeSpan.FromSeconds(5));
        return [scenario];
    }

    private sealed class DeliveryObserver(Func<ScenarioInitContext?> scenario) : IPushObserver
    {
        public void OnPushDelivered(TimeSpan latency, int sizeBytes) => scenario()?.Measure("deliver", latency, sizeBytes);
    }
}
