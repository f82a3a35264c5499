namespace Tcm.LoadTests.Tests;

/// <summary>
/// reconnect-storm: N agents connected (closed model, one copy per agent, ramped up over <c>--ramp</c>); once all are up the server is restarted
/// (killed, down for <c>--down</c>, started again on the same port) and every agent reconnects with jittered exponential
/// back-off (full jitter: a random wait in [0, min(max, base * 2^attempt)]). Steps: <c>connect</c> (first connection),
/// <c>reconnect-attempt</c> (each try after the drop), <c>reconnect</c> (drop to connected again, back-off included).
/// An iteration is one connection's life. The scenario stops itself once all are back and have held for a moment.
/// </summary>
internal sealed class ReconnectStormTest() : LoadTest(Info)
{
    private static readonly LoadTestInfo Info = new("reconnect-storm", "server restarted under N agents that reconnect with jittered back-off: time to all reconnected, peak accept rate")
    {
        DefaultDuration = TimeSpan.FromMinutes(3),
        DurationMeaning = "the longest the whole test may take",
        Parameters =
        [
            new("--down", "how long the server stays down", "2s"),
            new("--backoff", "base of the exponential back-off", "1s"),
            new("--backoff-max", "cap of the back-off", "16s"),
            new("--ramp", "time to bring all agents up before the restart (RampingConstant, so the first connect is not itself a storm)", "20s"),
            new("--settle", "wait after all agents connected before the restart", "3s"),
        ],
        DefaultThresholds = ["connect: fail% < 0.1", "reconnect: count > 0", "time-to-all-reconnected < 60s"],
    };

    public override IReadOnlyList<ScenarioProps> Build(TestContext context)
    {
        var agents = context.Agents;
        var down = context.GetDuration("--down");
        var backoffBase = context.GetDuration("--backoff");
        var backoffMax = context.GetDuration("--backoff-max");
        var settle = context.GetDuration("--settle");
        var ramp = context.GetDuration("--ramp");
        var tracker = new AgentTracker();
        long restartedAt = 0;
        long backUpAt = 0;
        var finished = 0;
        Task? restarting = null;

        var scenario = Scenario.Create(context.ScenarioName(Name), async ctx =>
            {
                var droppedAt = ctx.CopyState is long dropped ? dropped : 0;
                IAgentChannel? channel = null;
                for (var attempt = 0; channel is null; attempt++)
                {
                    if (droppedAt != 0)
                    {
                        var cap = Math.Min(backoffMax.TotalMilliseconds, backoffBase.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20)));
                        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * cap), ctx.TimeProvider, ctx.CancellationToken).ConfigureAwait(false);
                    }

                    (var response, channel) = await AgentSteps.ConnectAsync(ctx, context, droppedAt == 0 ? "connect" : "reconnect-attempt").ConfigureAwait(false);
                    if (response.IsError && droppedAt == 0)
                    {
                        await Task.Delay(backoffBase, ctx.TimeProvider, ctx.CancellationToken).ConfigureAwait(false);
                    }
                }

                ctx.CopyState = channel;
                if (droppedAt != 0)
                {
                    ctx.Measure("reconnect", Stopwatch.GetElapsedTime(droppedAt));
                }

                var connected = tracker.OnConnected();
                if (connected == agents && Interlocked.Read(ref backUpAt) != 0 && Interlocked.Exchange(ref finished, 1) == 0)
                {
                    var fromKill = Stopwatch.GetElapsedTime(Interlocked.Read(ref restartedAt));
                    var fromUp = Stopwatch.GetElapsedTime(Interlocked.Read(ref backUpAt));
                    ctx.Gauges.Set("time-to-all-reconnected", fromUp.TotalSeconds, "s", GaugeMerge.Max, "from the server listening again to the last agent reconnected");
                    ctx.Gauges.Set("time-to-all-reconnected-from-drop", fromKill.TotalSeconds, "s", GaugeMerge.Max, "from the server going down to the last agent reconnected");
                    ctx.Gauges.Set("peak-reconnect-rate", tracker.PeakPerSecond(Interlocked.Read(ref backUpAt)), "/s", GaugeMerge.Sum, "most agents reconnected in any sliding one-second window (client side; completions bunch when the client catches up)");
                    _ = ReportServerAndStopAsync(ctx, context);
                }

                try
                {
                    await channel!.Closed.WaitAsync(ctx.CancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    tracker.OnDisconnected();
                }

                await channel!.DisposeAsync().ConfigureAwait(false);
                ctx.CopyState = Stopwatch.GetTimestamp();
                return Response.Ok();
            })
            .WithInit(async ctx =>
            {
                tracker.Attach(ctx.Gauges, ctx.CancellationToken);
                await ConnectStormTest.WarmUpAsync(context, ctx.CancellationToken).ConfigureAwait(false);
                restarting = RestartWhenAllConnectedAsync(ctx, context, tracker, settle, down, t => Interlocked.Exchange(ref restartedAt, t), t => Interlocked.Exchange(ref backUpAt, t));
            })
            .WithClean(async _ =>
            {
                if (restarting is not null)
                {
                    await restarting.ConfigureAwait(false);
                }
            })
            .WithLoadSimulations(Simulation.RampingConstant(agents, ramp), Simulation.KeepConstant(agents, context.Duration));
        return [scenario];
    }

    private static async Task RestartWhenAllConnectedAsync(ScenarioInitContext ctx, TestContext context, AgentTracker tracker, TimeSpan settle, TimeSpan down, Action<long> restarted, Action<long> backUp)
    {
        var token = ctx.CancellationToken;
        try
        {
            await tracker.WaitForConnectedAsync(context.Agents, Timeout.InfiniteTimeSpan, context.Time, token).ConfigureAwait(false);

            await Task.Delay(settle, context.Time, token).ConfigureAwait(false);
            if (context.Shard != 0)
            {
                // Shard 0 restarts the shared server; the others only watch their agents come back.
                backUp(Stopwatch.GetTimestamp());
                restarted(Stopwatch.GetTimestamp());
                return;
            }

            restarted(Stopwatch.GetTimestamp());
            var before = Stopwatch.GetTimestamp();
            await context.Target.RestartAsync(down, token).ConfigureAwait(false);
            backUp(Stopwatch.GetTimestamp());
            ctx.Gauges.Set("server-down", Stopwatch.GetElapsedTime(before).TotalSeconds, "s", GaugeMerge.Max, "from the kill to the server listening again (downtime plus start-up)");
        }
        catch (OperationCanceledException)
        {
            // The run ended first.
        }
    }

    private static async Task ReportServerAndStopAsync(ScenarioContext ctx, TestContext context)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2), ctx.TimeProvider, ctx.Runtime.StopToken).ConfigureAwait(false);
            var server = await context.Target.MeasureAsync(false, ctx.Runtime.StopToken).ConfigureAwait(false);
            ctx.Gauges.Set("peak-accept-rate", server.PeakAcceptsPerSecond, "/s", GaugeMerge.Max, "most WebSocket upgrades the restarted server accepted in one calendar second (server side)");
            ctx.Gauges.Set("server-accepted", server.Accepted, "", GaugeMerge.Max, "upgrades accepted by the restarted server");
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or InvalidOperationException)
        {
            // The figure is missing from the report; the scenario still stops.
        }

        ctx.StopScenario("all agents reconnected");
    }
}
