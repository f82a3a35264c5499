using Tcm.LoadTests.Harness.Reports;

namespace Tcm.LoadTests.Tests;

/// <summary>
/// push-fanout-rate, the sustained mode of push-fanout: the same fleet and the same fan-outs, started at a steady rate for
/// <c>--step</c> each (fan-outs overlap when the rate outruns them). With <c>--rate N/s</c> one rate is held for
/// <c>--duration</c>; by default the highest rate carried with no failed fan-out is searched (<see cref="RateSearch"/>:
/// doubling from <c>--start-rate</c>, then halving the gap <c>--refine</c> times), with a pause of <c>--rest</c> between
/// rates so one rate's backlog does not fail the next. Gauges <c>max-sustained-rate</c> (fan-outs per second) and
/// <c>max-sustained-tasks-per-second</c>; every variant in one invocation, so the report gives their TCM/baseline ratio.
/// Steps and CPU figures as in push-fanout, over the whole search.
/// </summary>
internal sealed class PushFanoutRateTest() : LoadTest(Info)
{
    private static readonly LoadTestInfo Info = new("push-fanout-rate", "the highest rate of fan-outs (and tasks per second) each variant carries with no failed fan-out, or one rate held (--rate)")
    {
        DefaultAgents = 500,
        DefaultDuration = TimeSpan.FromMinutes(5),
        DurationMeaning = "the longest the search may take (with --rate: how long the rate is held)",
        DefaultProtocols = [ChannelProtocol.Http2],
        Parameters =
        [
            new("--rate", "hold this rate of fan-outs (N/s or N/m) for --duration instead of searching", "search"),
            new("--start-rate", "the first rate of the search", "1/s"),
            new("--max-rate", "the highest rate the search tries", "64/s"),
            new("--step", "how long each rate of the search is held", "10s"),
            new("--refine", "halvings of the gap between the highest rate that passed and the lowest that failed", "3"),
            new("--rest", "pause between two rates, for the backlog of the last to clear", "3s"),
            .. FanoutRound.Parameters,
        ],
        NsDeployments = true,
        RelayBaseline = true,
        DefaultThresholds = ["max-sustained-rate > 0"],
    };

    public override IReadOnlyList<ScenarioProps> Build(TestContext context)
    {
        var held = context.Parameters["--rate"] is "search" or "" ? (double?)null
            : RateSearch.TryParseRate(context.Parameters["--rate"], out var rate) ? rate
            : throw new FormatException($"--rate '{context.Parameters["--rate"]}' is not a rate: use e.g. 2/s, 0.5/s or 30/m.");
        var search = held is null ? NewSearch(context) : null;
        var fleet = new ConnectedFleet();
        var cost = new FanoutCost();
        var scenario = Scenario.Create(context.ScenarioName(Name), async ctx =>
            {
                var steady = new SteadyFanouts(ctx, context, fleet, cost);
                if (held is { } fixedRate)
                {
                    var passed = await steady.HoldAsync(fixedRate, context.Duration).ConfigureAwait(false);
                    Report(ctx.Gauges, passed ? fixedRate : null, fleet.Count, $"{Format.Number(fixedRate)}/s held for {DurationText.Format(context.Duration)}: {(passed ? "no failed fan-out" : "failed")}");
                    return passed ? Response.Ok() : Response.Fail($"fan-outs failed at {Format.Number(fixedRate)}/s");
                }

                return await SearchAsync(ctx, context, steady, search!, fleet).ConfigureAwait(false);
            })
            .WithInit(ctx => FanoutRound.ConnectFleetAsync(ctx, context, fleet, cost))
            .WithClean(async ctx =>
            {
                cost.Stop(ctx.Gauges, context.Target.Variant, context.Shards);
                await fleet.DisposeAsync().ConfigureAwait(false);
            })
            .WithLoadSimulations(Simulation.IterationsForConstant(1, 1))
            .WithMaxDuration(context.Duration + context.GetDuration("--timeout") + TimeSpan.FromMinutes(1));
        return [scenario];
    }

    private static RateSearch NewSearch(TestContext context)
    {
        static double Rate(TestContext context, string name) => RateSearch.TryParseRate(context.Parameters[name], out var rate)
            ? rate
            : throw new FormatException($"{name} '{context.Parameters[name]}' is not a rate: use e.g. 2/s, 0.5/s or 30/m.");
        var first = Rate(context, "--start-rate");
        return new RateSearch(first, Math.Max(first, Rate(context, "--max-rate")), Math.Max(0, context.GetInt("--refine")));
    }

    private static async Task<Response> SearchAsync(ScenarioContext ctx, TestContext context, SteadyFanouts steady, RateSearch search, ConnectedFleet fleet)
    {
        var step = context.GetDuration("--step");
        var rest = context.GetDuration("--rest");
        var started = context.Time.GetTimestamp();
        while (search.Next is { } rate && context.Time.GetElapsedTime(started) + step <= context.Duration)
        {
            search.Record(await steady.HoldAsync(rate, step).ConfigureAwait(false));
            await Task.Delay(rest, context.Time, ctx.CancellationToken).ConfigureAwait(false);
        }

        var tried = string.Join(", ", search.Tried.Select(t => $"{Format.Number(t.Rate)}/s {(t.Passed ? "ok" : "FAILED")}"));
        Report(ctx.Gauges, search.HighestPassed, fleet.Count, $"rates tried, {DurationText.Format(step)} each: {tried}");
        return search.HighestPassed is null ? Response.Fail("no rate passed") : Response.Ok();
    }

    private static void Report(GaugeSet gauges, double? rate, int agents, string tried)
    {
        gauges.Set("max-sustained-rate", rate ?? 0, "/s", GaugeMerge.Min, "highest rate of fan-outs carried with no failed fan-out; " + tried);
        gauges.Set("max-sustained-tasks-per-second", (rate ?? 0) * agents, "/s", GaugeMerge.Sum, "that rate times the agents each fan-out reaches: tasks delivered and answered per second");
    }

    /// <summary>Fan-outs started at a steady rate.</summary>
    private sealed class SteadyFanouts(ScenarioContext ctx, TestContext context, ConnectedFleet fleet, FanoutCost cost)
    {
        private readonly int _size = Math.Max(16, context.GetInt("--size"));
        private readonly TimeSpan _timeout = context.GetDuration("--timeout");

        /// <summary>Starts a fan-out every 1/<paramref name="rate"/> seconds for <paramref name="during"/>; true when none failed.</summary>
        public async Task<bool> HoldAsync(double rate, TimeSpan during)
        {
            var interval = TimeSpan.FromSeconds(1 / rate);
            var started = context.Time.GetTimestamp();
            var rounds = new List<Task<Response>>();
            for (var due = TimeSpan.Zero; due < during; due += interval)
            {
                var wait = due - context.Time.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, context.Time, ctx.CancellationToken).ConfigureAwait(false);
                }

                rounds.Add(FanoutRound.RunAsync(ctx, context, fleet.Count, _size, _timeout, cost));
            }

            var responses = await Task.WhenAll(rounds).ConfigureAwait(false);
            return responses.All(r => !r.IsError);
        }
    }
}
