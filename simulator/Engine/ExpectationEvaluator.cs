using System.Globalization;
using Tcm.Protocol;
using Tcm.Simulator.Reports;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Engine;

/// <summary>
/// Checks a scenario's expectations: windows over time ("within 10s after vpn-flip", "throughout") are decided while the
/// run goes, from the same fleet snapshots the report samples; the rest at the end. Each result carries the observed figure.
/// </summary>
internal sealed class ExpectationEvaluator
{
    private readonly List<WindowCheck> _windows = [];
    private readonly IReadOnlyList<Expectation> _expectations;

    public ExpectationEvaluator(IReadOnlyList<Expectation> expectations)
    {
        _expectations = expectations;
        foreach (var e in expectations)
        {
            if (e is StateExpectation { Window: WithinWindow or ThroughoutWindow } state)
            {
                _windows.Add(new WindowCheck(state));
            }
        }
    }

    /// <summary>Whether every windowed expectation is decided (the run may end early only then).</summary>
    public bool WindowsDecided => _windows.All(w => w.Decided);

    /// <summary>
    /// Feeds one snapshot to the open windows. A window's deadline counts from when its event fired (<paramref name="firedAt"/>);
    /// only snapshots taken after the event's action completed (<paramref name="happenedAt"/>) are evidence, so the state
    /// before a server stopped, or before a ramp ended, cannot satisfy it.
    /// </summary>
    public void Observe(FleetSnapshot snapshot, Func<string, double?> firedAt, Func<string, double?> happenedAt)
    {
        foreach (var window in _windows)
        {
            window.Observe(snapshot, firedAt, happenedAt);
        }
    }

    /// <summary>The windowed expectations decided so far, for the live view (the rest are decided at the end).</summary>
    public (int Held, int Failed) Decided => (_windows.Count(w => w.Passed == true), _windows.Count(w => w.Passed == false));

    public IReadOnlyList<ExpectationResult> Final(FleetSnapshot last, RunFacts facts) =>
        _expectations.Select(e => Evaluate(e, last, facts)).ToArray();

    private ExpectationResult Evaluate(Expectation expectation, FleetSnapshot last, RunFacts facts) => expectation switch
    {
        StateExpectation { Window: AtEndWindow } s => AtEnd(s, last),
        StateExpectation s => _windows.First(w => ReferenceEquals(w.Expectation, s)).Result(),
        ActionExpectation a => Action(a, facts),
        IntegrityExpectation i => Integrity(i, facts),
        TrafficExpectation t => Traffic(t, facts),
        LatencyExpectation l => Latency(l, facts),
        _ => new ExpectationResult(expectation.Name, expectation.Text, false, "n/a", $"the engine cannot evaluate {expectation.GetType().Name}"),
    };

    private static ExpectationResult AtEnd(StateExpectation s, FleetSnapshot last)
    {
        var (matching, population) = last.Count(s.Condition.Metric, s.Condition.Channel, s.Condition.Of);
        var observed = s.Condition.Value.Observe(matching, population);
        return new ExpectationResult(s.Name, s.Text, s.Condition.Op.Holds(observed, s.Condition.Value.Value), Describe(s.Condition.Value.IsShare, observed, matching, population));
    }

    private static ExpectationResult Action(ActionExpectation a, RunFacts facts)
    {
        var tracked = facts.Actions.Find(a.Condition.EventId);
        if (tracked is null)
        {
            return new ExpectationResult(a.Name, a.Text, false, "no push", $"event '{a.Condition.EventId}' never pushed anything");
        }

        Func<Protocol.Admin.ActionTargetStatus, DateTimeOffset?> reached = a.Condition.Metric switch
        {
            ActionMetric.Delivered => t => t.DeliveredAt,
            ActionMetric.Completed => t => tracked.IsFinal(t.State) ? t.CompletedAt ?? t.DeliveredAt : null,
            ActionMetric.Succeeded => t => t.State == TaskState.Succeeded || (tracked.Kind == "policy" && ActionTracker.Tracked.WasDelivered(t.State)) ? t.CompletedAt ?? t.DeliveredAt : null,
            ActionMetric.NotSent => t => t.State == TaskState.NotSent ? t.CompletedAt : null,
            _ => t => t.State is TaskState.Failed or TaskState.TimedOut ? t.CompletedAt : null,
        };
        var (count, targets) = tracked.CountWithin(reached, a.Within);
        var observed = a.Condition.Value.Observe(count, targets);
        return new ExpectationResult(a.Name, a.Text, targets > 0 && a.Condition.Op.Holds(observed, a.Condition.Value.Value), Describe(a.Condition.Value.IsShare, observed, count, targets),
            targets == 0 ? "the push had no targets" : null);
    }

    private static ExpectationResult Integrity(IntegrityExpectation i, RunFacts facts)
    {
        if (i.Check == IntegrityCheck.NoDuplicateResults)
        {
            var stored = facts.Actions.All.Sum(t => t.Status?.Targets.Count(x => x.ResultCount > 1) ?? 0);
            var executed = facts.DuplicateExecutions;
            var total = stored + executed;
            return new ExpectationResult(i.Name, i.Text, total == 0, $"{total} duplicates",
                $"{stored} targets with more than one stored result, {executed} tasks run more than once on an agent");
        }

        // Lost: a target that was delivered (the agent has the push) but whose result never reached the server,
        // plus results agents still hold unacknowledged at the end.
        var results = facts.Actions.All.Where(t => t.Kind != "policy").ToArray();
        var delivered = results.Sum(t => t.Status?.Targets.Count(ActionTracker.Tracked.Reached) ?? 0);
        var lost = results.Sum(t => t.Status?.Targets.Count(x => ActionTracker.Tracked.Reached(x) && !t.IsFinal(x.State)) ?? 0);
        var held = facts.PendingResultsAtEnd;
        return new ExpectationResult(i.Name, i.Text, lost == 0 && held == 0, $"{lost} lost of {delivered} delivered",
            held == 0 ? null : $"{held} results still held by agents unacknowledged");
    }

    private static ExpectationResult Traffic(TrafficExpectation t, RunFacts facts)
    {
        var traffic = facts.Traffic;
        var legacyTraffic = facts.LegacyTraffic;
        if (t.AfterEventId is { } after)
        {
            if (!facts.TrafficAfter.TryGetValue(after, out var windowed))
            {
                return new ExpectationResult(t.Name, t.Text, false, "not measured", $"event '{after}' never happened");
            }

            traffic = windowed;
            legacyTraffic = facts.LegacyTrafficAfter?.GetValueOrDefault(after);
        }

        var observed = traffic.Figure(t.Metric, t.Filter);
        var expected = t.Value;
        if (t.LegacyFactor is { } factor)
        {
            if (legacyTraffic is not { } legacy)
            {
                return new ExpectationResult(t.Name, t.Text, false, Format(observed), "compares with legacy, but the run has no legacy figures (fleet.legacy: compare)");
            }

            expected = factor * legacy.Figure(t.Metric, t.Filter);
        }

        return new ExpectationResult(t.Name, t.Text, t.Op.Holds(observed, expected), Format(observed), t.LegacyFactor is null ? null : $"legacy-derived bound {Format(expected)}");
    }

    private static ExpectationResult Latency(LatencyExpectation l, RunFacts facts)
    {
        if (l.Phase == LatencyPhase.Reconnected)
        {
            return Reconnected(l, facts);
        }

        var actions = l.EventId is null ? facts.Actions.All : facts.Actions.Find(l.EventId) is { } one ? [one] : [];
        var samples = actions.SelectMany(a => l.Phase == LatencyPhase.Delivered ? a.DeliveredLatencies() : a.CompletedLatencies()).Order().ToArray();
        if (samples.Length == 0)
        {
            return new ExpectationResult(l.Name, l.Text, false, "no samples", l.EventId is null ? "no pushes" : $"event '{l.EventId}' has no {l.Phase.ToString().ToLowerInvariant()} targets");
        }

        var value = LatencySummary.Percentile(samples, l.Percentile);
        return new ExpectationResult(l.Name, l.Text, l.Op.Holds(value, l.Threshold.TotalMilliseconds), $"{value:0} ms", $"p{l.Percentile * 100:0.#} of {samples.Length} targets");
    }

    /// <summary>
    /// A percentile of the reconnect times after an event, over every agent that was not reconnected when it happened: one still not
    /// reconnected at the end counts as never (beyond any bound), so "p99 reconnected back &lt;= 20s" fails while more than 1% never did.
    /// </summary>
    private static ExpectationResult Reconnected(LatencyExpectation l, RunFacts facts)
    {
        if (facts.Reconnects.GetValueOrDefault(l.EventId!) is not { } spread)
        {
            return new ExpectationResult(l.Name, l.Text, false, "not measured", $"event '{l.EventId}' never happened");
        }

        if (spread.Agents == 0)
        {
            return new ExpectationResult(l.Name, l.Text, true, "no reconnects", $"every agent was connected when '{l.EventId}' happened");
        }

        var samples = spread.Seconds.Order().Concat(Enumerable.Repeat(double.PositiveInfinity, spread.Agents - spread.Seconds.Count)).ToArray();
        var value = LatencySummary.Percentile(samples, l.Percentile);
        var observed = double.IsPositiveInfinity(value) ? "never" : $"{value:0.0} s";
        return new ExpectationResult(l.Name, l.Text, l.Op.Holds(value, l.Threshold.TotalSeconds), observed,
            $"p{l.Percentile * 100:0.#} of {spread.Agents} agents; {spread.Reconnected} reconnected, the last {spread.Seconds.DefaultIfEmpty(0).Max():0.0} s after '{l.EventId}'");
    }

    internal static string Describe(bool share, double observed, int matching, int population) =>
        share ? $"{observed * 100:0.#}% ({matching}/{population})" : matching.ToString(CultureInfo.InvariantCulture);

    private static string Format(double value) => value.ToString(value % 1 == 0 ? "N0" : "N2", CultureInfo.InvariantCulture);

    /// <summary>One "within" or "throughout" expectation, decided from the snapshots as they come.</summary>
    private sealed class WindowCheck(StateExpectation expectation)
    {
        private bool? _passed;
        private string _observed = "not observed";
        private string? _detail;
        private double? _worstOrBest;

        public StateExpectation Expectation { get; } = expectation;

        public bool Decided => _passed is not null;

        public bool? Passed => _passed;

        public void Observe(FleetSnapshot snapshot, Func<string, double?> firedAt, Func<string, double?> happenedAt)
        {
            if (_passed is not null)
            {
                return;
            }

            var condition = Expectation.Condition;
            var (afterEvent, within) = Expectation.Window switch
            {
                WithinWindow w => (w.AfterEventId, (double?)w.Within.TotalSeconds),
                ThroughoutWindow t => (t.AfterEventId, null),
                _ => (null, null),
            };
            if (Expectation.Window is ThroughoutWindow { UntilEventId: { } until } && firedAt(until) is { } end && snapshot.At >= end)
            {
                // The window closed when that event began; it held at every sample before.
                var seen = _observed != "not observed";
                _passed = seen;
                _detail = seen ? $"held from {afterEvent ?? "the start"} until {until}" : $"no sample between {afterEvent ?? "the start"} and {until}";
                return;
            }

            double start = 0;
            double evidenceFrom = 0;
            if (afterEvent is not null)
            {
                if (firedAt(afterEvent) is not { } fired || happenedAt(afterEvent) is not { } happened)
                {
                    // Not happened yet; a within-window whose deadline passed meanwhile has failed.
                    if (within is { } limit && firedAt(afterEvent) is { } f && snapshot.At - f > limit)
                    {
                        _passed = false;
                        _detail = $"'{afterEvent}' had not completed {limit:0.#} s after it began";
                    }

                    return;
                }

                start = fired;
                evidenceFrom = happened;
            }

            if (snapshot.At <= evidenceFrom)
            {
                return;
            }

            var (matching, population) = snapshot.Count(condition.Metric, condition.Channel, condition.Of);
            var observed = condition.Value.Observe(matching, population);
            var holds = condition.Op.Holds(observed, condition.Value.Value);
            var text = Describe(condition.Value.IsShare, observed, matching, population);
            if (within is { } w2)
            {
                // Within: passes the first time it holds inside the window; the best figure is reported otherwise.
                if (holds)
                {
                    _passed = true;
                    _observed = text;
                    _detail = $"held {snapshot.At - start:0.0} s after {afterEvent ?? "start"}";
                }
                else
                {
                    if (_worstOrBest is null || Better(condition.Op, observed, _worstOrBest.Value))
                    {
                        _worstOrBest = observed;
                        _observed = text;
                    }

                    if (snapshot.At - start > w2)
                    {
                        _passed = false;
                        _detail = $"best figure within {w2:0.#} s after {afterEvent ?? "start"}";
                    }
                }
            }
            else if (!holds)
            {
                _passed = false;
                _observed = text;
                _detail = $"broken {snapshot.At - start:0.0} s after {afterEvent ?? "start"}";
            }
            else
            {
                _observed = text;
            }
        }

        public ExpectationResult Result() => new(
            Expectation.Name,
            Expectation.Text,
            _passed ?? Expectation.Window is ThroughoutWindow && _observed != "not observed",
            _observed,
            _passed is null && Expectation.Window is WithinWindow ? "the window never closed or its event never happened" : _detail);

        private static bool Better(Comparison op, double candidate, double current) =>
            op is Comparison.LessOrEqual or Comparison.Less ? candidate < current : candidate > current;
    }
}

/// <summary>What the evaluator needs beyond fleet snapshots.</summary>
internal sealed record RunFacts
{
    public required ActionTracker Actions { get; init; }
    public required TrafficReport Traffic { get; init; }
    public TrafficReport? LegacyTraffic { get; init; }
    public IReadOnlyDictionary<string, TrafficReport> TrafficAfter { get; init; } = new Dictionary<string, TrafficReport>();
    public IReadOnlyDictionary<string, TrafficReport>? LegacyTrafficAfter { get; init; }
    public int DuplicateExecutions { get; init; }
    /// <summary>How agents reconnected after the events tracked (<see cref="ReconnectTracker"/>), by event id.</summary>
    public IReadOnlyDictionary<string, ReconnectSpread> Reconnects { get; init; } = new Dictionary<string, ReconnectSpread>();
    public int PendingResultsAtEnd { get; init; }
}
