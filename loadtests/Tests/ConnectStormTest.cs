namespace Tcm.LoadTests.Tests;

/// <summary>
/// connect-storm: N agents start at once, from cold (no connection) to their channel open. Closed model, one copy per
/// agent: a copy connects (step <c>connect</c>, retried after a second on failure) and then holds its channel. The scenario
/// stops itself <c>--hold</c> after the last agent connected, or at <c>--duration</c>.
/// Figures: time to all connected, handshake rate (mean and peak per second), failures; with real agents also the servers'
/// admission per second (<see cref="AdmissionSampler"/>: TLS handshakes started, finished, refused, timed out; channel upgrades
/// refused with a retry hint). Agents connect at once, as the baseline's do: no start jitter (<c>AgentOptions.StartJitter</c>
/// spreads a fleet's boot; agents that were running when their server restarted do not boot), so the time to all connected
/// is the server's, not the agents' jitter.
/// With real agents (<see cref="IAgentFleetTarget"/>, the tcm variant) the init first registers every agent
/// (<c>--register-concurrency</c> at a time; step <c>register</c>, gauges <c>registration-*</c>) and then restarts the server,
/// so the storm is what follows a server restart: already-registered agents from cold to persistent.
/// </summary>
internal sealed class ConnectStormTest() : LoadTest(Info)
{
    private static readonly LoadTestInfo Info = new("connect-storm", "N agents from cold to connected channel at once: time to all connected, handshake rate, failures")
    {
        DefaultDuration = TimeSpan.FromMinutes(2),
        DurationMeaning = "the longest the storm may take before the run gives up",
        Parameters =
        [
            new("--hold", "how long all agents stay connected after the last one arrived", "3s"),
            new("--retry", "pause before an agent retries a failed connect", "1s"),
            new("--register-concurrency", "tcm only: registrations at once before the storm (the storm then follows a server restart)", "32"),
        ],
        DefaultRoutes = LoadTestInfo.DirectAndGateway,
        DefaultThresholds = ["connect: fail% < 0.1", "time-to-all-connected < 60s"],
    };

    public override IReadOnlyList<ScenarioProps> Build(TestContext context)
    {
        var agents = context.Agents;
        var hold = context.GetDuration("--hold");
        var retry = context.GetDuration("--retry");
        var tracker = new AgentTracker();
        long firstAttempt = 0;
        var scenario = Scenario.Create(context.ScenarioName(Name), ctx =>
            {
                if (ctx.CopyState is null)
                {
                    Interlocked.CompareExchange(ref firstAttempt, Stopwatch.GetTimestamp(), 0);
                }

                return AgentSteps.HoldOrConnectAsync(ctx, context, tracker, retry, (c, connected) =>
                {
                    if (connected != agents)
                    {
                        return;
                    }

                    var elapsed = Stopwatch.GetElapsedTime(Interlocked.Read(ref firstAttempt));
                    c.Gauges.Set("time-to-all-connected", elapsed.TotalSeconds, "s", GaugeMerge.Max, "from the first connect attempt to the last agent connected");
                    c.Gauges.Set("handshake-rate-mean", agents / Math.Max(elapsed.TotalSeconds, 1e-3), "/s", GaugeMerge.Sum, "agents / time to all connected");
                    c.Gauges.Set("handshake-rate-peak", tracker.PeakPerSecond(), "/s", GaugeMerge.Sum, "most connections completed within one second");
                    _ = StopAfterAsync(c, hold, $"all {agents} agents connected");
                });
            })
            .WithInit(async ctx =>
            {
                tracker.Attach(ctx.Gauges, ctx.CancellationToken);
                ctx.Gauges.Set("agents", agents, "", GaugeMerge.Sum, "agents in the storm");
                if (context.Target is IAgentFleetTarget fleet)
                {
                    await RegisterThenRestartAsync(context, fleet, ctx, ctx.CancellationToken).ConfigureAwait(false);
                }

                await WarmUpAsync(context, ctx.CancellationToken).ConfigureAwait(false);
                if (context.Target is IAgentFleetTarget admission && context.Shard == 0)
                {
                    // One process samples the shared servers; the first read (before the storm) opens the connection it reuses.
                    _ = new AdmissionSampler(admission.ReadAdmissionAsync).RunAsync(ctx.Gauges, ctx.TimeProvider, ctx.CancellationToken);
                }
            })
            .WithLoadSimulations(Simulation.KeepConstant(agents, context.Duration))
            .WithMaxDuration(context.Duration + TimeSpan.FromMinutes(1));
        return [scenario];
    }

    /// <summary>Connects and closes a few agents so JIT and TLS set-up costs are not counted as the storm.</summary>
    internal static async Task WarmUpAsync(TestContext context, CancellationToken cancellationToken)
    {
        var channels = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => context.Target.ConnectAsync(-1 - i, NullPushObserver.Instance, cancellationToken))).ConfigureAwait(false);
        foreach (var channel in channels)
        {
            await channel.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Registers every agent of this process (and the warm-up agents), measured as step <c>register</c>, then restarts the
    /// server (lab, one process) so the storm meets a freshly started server with every agent already known to it.
    /// </summary>
    private static async Task RegisterThenRestartAsync(TestContext context, IAgentFleetTarget fleet, ScenarioInitContext scenario, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var registered = 0;
        await Parallel.ForEachAsync(
            Enumerable.Range(-8, context.Agents + 8),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, context.GetInt("--register-concurrency")), CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var index = i < 0 ? i : context.AgentOffset + i;
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await fleet.RegisterAsync(index, ct).ConfigureAwait(false);
                    if (i >= 0)
                    {
                        scenario.Measure("register", Stopwatch.GetElapsedTime(start));
                        Interlocked.Increment(ref registered);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    scenario.MeasureFail("register", Step.Describe(ex));
                }
            }).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        scenario.Gauges.Set("registration-time", elapsed.TotalSeconds, "s", GaugeMerge.Max, "registering every agent before the storm (not part of the storm)");
        scenario.Gauges.Set("registration-rate", registered / Math.Max(elapsed.TotalSeconds, 1e-3), "/s", GaugeMerge.Sum, $"agents registered per second, {context.GetInt("--register-concurrency")} at a time");
        if (context.Shards == 1)
        {
            try
            {
                var before = Stopwatch.GetTimestamp();
                await context.Target.RestartAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                scenario.Gauges.Set("server-restart", Stopwatch.GetElapsedTime(before).TotalSeconds, "s", GaugeMerge.Max, "server killed and started again between registration and the storm");
            }
            catch (NotSupportedException)
            {
                // A server this process does not own: the storm follows the registrations directly.
            }
        }
    }

    private static async Task StopAfterAsync(ScenarioContext context, TimeSpan hold, string reason)
    {
        try
        {
            await Task.Delay(hold, context.TimeProvider, context.Runtime.StopToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        context.StopScenario(reason);
    }
}
