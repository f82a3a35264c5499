namespace Tcm.LoadTests.Tests;

/// <summary>
/// polling-vs-channel: the same fleet of real agents, first with "TCM communication" on (persistent channel), then switched
/// off through the admin API so the very same agents fall back to legacy HTTP polling every <c>--poll-interval</c> (the
/// product polls every 60 minutes; the test scales that down and says so). Each mode is measured over a window of
/// <c>--duration</c> in steady state, with one echo task pushed to all at the start of the window: requests (HTTP requests,
/// channel requests and channel upgrades, from the agents' own counters), bytes above TLS, and time to action (server
/// creates the push to the agent's executor sees it). Figures per agent-hour, and polling / channel ratios.
/// Only the tcm variant has modes to compare; the bare baseline is skipped with a note.
/// </summary>
internal sealed class PollingVsChannelTest() : LoadTest(Info)
{
    private static readonly LoadTestInfo Info = new("polling-vs-channel", "the same fleet on the persistent channel and in legacy HTTP polling: requests, bytes and time to action per agent-hour")
    {
        DefaultDuration = TimeSpan.FromMinutes(2),
        DurationMeaning = "the measured window of each mode (at least twice --poll-interval)",
        DefaultProtocols = [ChannelProtocol.Http1],
        Variants = ["tcm"],
        Parameters =
        [
            new("--poll-interval", "task poll interval of the agents in HTTP polling mode (the product's is 60m; scaled down)", "60s"),
            new("--connect-concurrency", "agents connecting at once while the fleet is set up", "64"),
            new("--settle", "wait after a mode switch before its window starts", "5s"),
        ],
        DefaultThresholds = ["connect: fail% < 0.1", "requests-ratio >= 20", "bytes-ratio >= 20"],
    };

    public override IReadOnlyList<ScenarioProps> Build(TestContext context)
    {
        var fleetTarget = context.Target as IAgentFleetTarget
            ?? throw new InvalidOperationException($"{Name} needs a target with real agents (the tcm variant), not '{context.Target.Variant}'");
        var pollInterval = context.GetDuration("--poll-interval");
        var settle = context.GetDuration("--settle");
        var window = context.Duration < 2 * pollInterval ? 2 * pollInterval : context.Duration;
        var fleet = new ConnectedFleet();
        var observer = new PhaseObserver();
        var scenario = Scenario.Create(context.ScenarioName(Name), async ctx =>
            {
                var channel = await MeasureModeAsync(ctx, context, fleetTarget, observer, "channel", window, TimeSpan.FromSeconds(30)).ConfigureAwait(false);

                // Switch the same agents to polling: the server pushes the new policy and closes the channels.
                await fleetTarget.SetTcmCommunicationAsync(false, ctx.CancellationToken).ConfigureAwait(false);
                var switchedAt = Stopwatch.GetTimestamp();
                while (fleetTarget.PersistentAgents > 0 && Stopwatch.GetElapsedTime(switchedAt) < TimeSpan.FromMinutes(1))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), ctx.TimeProvider, ctx.CancellationToken).ConfigureAwait(false);
                }

                ctx.Gauges.Set("switch-to-polling", Stopwatch.GetElapsedTime(switchedAt).TotalSeconds, "s", GaugeMerge.Max, "from 'TCM communication' off to no agent persistent");
                await Task.Delay(settle, ctx.TimeProvider, ctx.CancellationToken).ConfigureAwait(false);
                var polling = await MeasureModeAsync(ctx, context, fleetTarget, observer, "polling", window, pollInterval + TimeSpan.FromSeconds(30)).ConfigureAwait(false);

                // A channel window may hold no request at all: the ratio then floors the channel at one request for the whole fleet.
                ctx.Gauges.Set("requests-ratio", polling.Requests / Math.Max(channel.Requests, 1.0 / (channel.Agents * window.TotalHours)), "x", GaugeMerge.Mean, "polling / channel requests per agent-hour (channel floored at one request in the window)");
                ctx.Gauges.Set("bytes-ratio", polling.Bytes / Math.Max(channel.Bytes, 1e-9), "x", GaugeMerge.Mean, "polling / channel bytes per agent-hour (above TLS)");
                ctx.StopScenario("both modes measured");
                return Response.Ok();
            })
            .WithInit(async ctx =>
            {
                observer.Scenario = ctx;
                fleetTarget.TaskPollInterval = pollInterval;
                await fleet.ConnectAsync(context, ctx, context.Agents, context.GetInt("--connect-concurrency"), observer, ctx.CancellationToken).ConfigureAwait(false);
                ctx.Gauges.Set("agents", fleet.Count, "", GaugeMerge.Sum, "agents in the fleet");
                ctx.Gauges.Set(GaugeSet.Connections, fleet.Count, "agents", GaugeMerge.Sum, "agents connected");
                ctx.Gauges.Set("poll-interval", pollInterval.TotalSeconds, "s", GaugeMerge.Max, "task poll interval in HTTP polling mode (the product's default is 3600 s)");
                ctx.Gauges.Set("window", window.TotalSeconds, "s", GaugeMerge.Max, "measured window of each mode");
                await Task.Delay(settle, context.Time, ctx.CancellationToken).ConfigureAwait(false);
            })
            .WithClean(async _ => await fleet.DisposeAsync().ConfigureAwait(false))
            .WithoutWarmUp()
            .WithLoadSimulations(Simulation.IterationsForConstant(1, 1))
            .WithMaxDuration(2 * window + TimeSpan.FromMinutes(3));
        return [scenario];
    }

    private static async Task<PerAgentHour> MeasureModeAsync(ScenarioContext ctx, TestContext context, IAgentFleetTarget target, PhaseObserver observer, string mode, TimeSpan window, TimeSpan actionTimeout)
    {
        var before = target.Traffic;
        var start = Stopwatch.GetTimestamp();
        observer.Step = $"{mode}-time-to-action";
        var response = await Step.Run($"{mode}-action", ctx, async () =>
        {
            var result = await context.Target.PushToAllAsync(64, actionTimeout, ctx.CancellationToken).ConfigureAwait(false);
            ctx.MeasureHistogram($"{mode}-result", LogHistogram.FromData(result.RoundTrip));
            return result.Echoed >= before.Agents
                ? Response.Ok()
                : Response.Fail($"{before.Agents - result.Echoed} of {before.Agents} agents did not answer within {actionTimeout.TotalSeconds:0} s");
        }).ConfigureAwait(false);
        _ = response;
        var rest = window - Stopwatch.GetElapsedTime(start);
        if (rest > TimeSpan.Zero)
        {
            await Task.Delay(rest, ctx.TimeProvider, ctx.CancellationToken).ConfigureAwait(false);
        }

        var traffic = target.Traffic.Since(before);
        var agentHours = Math.Max(1, before.Agents) * Stopwatch.GetElapsedTime(start).TotalHours;
        var figures = new PerAgentHour(before.Agents, traffic.Requests / agentHours, traffic.Bytes / agentHours);
        ctx.Gauges.Set($"{mode}-requests-per-agent-hour", figures.Requests, "", GaugeMerge.Mean, $"{mode}: HTTP requests + channel requests + channel upgrades, per agent-hour (window includes one pushed task and its result)");
        ctx.Gauges.Set($"{mode}-http-requests", traffic.HttpRequests, "", GaugeMerge.Sum, $"{mode}: plain HTTP requests in the window, whole fleet");
        ctx.Gauges.Set($"{mode}-channel-requests", traffic.ChannelRequests, "", GaugeMerge.Sum, $"{mode}: channel requests and upgrades in the window, whole fleet");
        ctx.Gauges.Set($"{mode}-bytes-per-agent-hour", figures.Bytes, "bytes", GaugeMerge.Mean, $"{mode}: application bytes sent and received above TLS, per agent-hour");
        return figures;
    }

    private sealed record PerAgentHour(int Agents, double Requests, double Bytes);

    /// <summary>Sends each delivery to the step of the mode being measured.</summary>
    private sealed class PhaseObserver : IPushObserver
    {
        private volatile string? _step;

        public ScenarioInitContext? Scenario { get; set; }

        public string? Step
        {
            get => _step;
            set => _step = value;
        }

        public void OnPushDelivered(TimeSpan latency, int sizeBytes)
        {
            if (_step is { } step)
            {
                Scenario?.Measure(step, latency, sizeBytes);
            }
        }
    }
}
