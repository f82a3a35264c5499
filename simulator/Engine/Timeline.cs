using Tcm.Protocol;
using Tcm.Simulator.Reports;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Engine;

/// <summary>
/// The scenario's timeline as it plays: which events are due (at a time, after another event, after a condition with
/// an optional timeout), when each fired and finished, and how it went. Times are seconds since the run started.
/// </summary>
internal sealed class Timeline
{
    private readonly IReadOnlyList<TimelineEvent> _events;
    private readonly State[] _states;
    private readonly Dictionary<string, int> _index;
    private readonly Lock _gate = new();

    public Timeline(IReadOnlyList<TimelineEvent> events)
    {
        _events = events;
        _states = events.Select(_ => new State()).ToArray();
        _index = events.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
    }

    public bool AllDone
    {
        get
        {
            lock (_gate)
            {
                return _states.All(s => s.DoneAt is not null);
            }
        }
    }

    public int DoneCount
    {
        get
        {
            lock (_gate)
            {
                return _states.Count(s => s.DoneAt is not null);
            }
        }
    }

    public TimelineEvent? Next
    {
        get
        {
            lock (_gate)
            {
                var i = Array.FindIndex(_states, s => s.FiredAt is null);
                return i < 0 ? null : _events[i];
            }
        }
    }

    /// <summary>The events that become due now; each is returned once.</summary>
    public IReadOnlyList<DueEvent> Due(double now, FleetSnapshot fleet, ActionTracker actions)
    {
        var due = new List<DueEvent>();
        lock (_gate)
        {
            for (var i = 0; i < _events.Count; i++)
            {
                var state = _states[i];
                if (state.FiredAt is not null)
                {
                    continue;
                }

                if (IsDue(_events[i].Trigger, state, now, fleet, actions))
                {
                    state.FiredAt = now;
                    due.Add(new DueEvent(this, i, _events[i]));
                }
            }
        }

        return due;
    }

    public IReadOnlyList<TimelineEntry> Entries()
    {
        lock (_gate)
        {
            return _events.Select((e, i) => new TimelineEntry
            {
                Id = e.Id,
                Action = e.Action.Kind,
                Trigger = e.Trigger.ToString() ?? "",
                Selection = e.Select.ToString(),
                StartedAt = Round(_states[i].FiredAt),
                EndedAt = Round(_states[i].DoneAt),
                Outcome = _states[i].Outcome,
                Agents = _states[i].Agents,
                Detail = _states[i].Detail,
            }).ToArray();
        }
    }

    private bool IsDue(Trigger trigger, State state, double now, FleetSnapshot fleet, ActionTracker actions)
    {
        switch (trigger)
        {
            case AtTrigger at:
                return now >= at.At.TotalSeconds;
            case AfterEventTrigger after:
                return DoneAt(after.EventId) is { } done && now >= done + after.Delay.TotalSeconds;
            case AfterConditionTrigger condition:
                // The condition is watched from when the event before it has happened, so waits chain in file order.
                if (state.ArmedAt is null)
                {
                    if (condition.SinceEventId is { } since && DoneAt(since) is null)
                    {
                        return false;
                    }

                    state.ArmedAt = now;
                }

                if (state.MetAt is null)
                {
                    if (Holds(condition.Condition, fleet, actions))
                    {
                        state.MetAt = now;
                    }
                    else if (condition.Timeout is { } timeout && now - state.ArmedAt >= timeout.TotalSeconds)
                    {
                        state.TimedOut = true;
                        state.MetAt = now;
                        state.Detail = $"'{condition.Condition.Text}' did not hold within {DurationText.Format(timeout)}";
                    }
                }

                return state.MetAt is { } met && now >= met + condition.Delay.TotalSeconds;
            default:
                return false;
        }
    }

    /// <summary>When an event fired (its action began), in run seconds: the deadline of "within 60s after start" counts from here.</summary>
    public double? FiredAt(string eventId)
    {
        lock (_gate)
        {
            return _index.TryGetValue(eventId, out var i) ? _states[i].FiredAt : null;
        }
    }

    /// <summary>
    /// When an event's action had happened (a server stopped, VPN adapters went up), in run seconds: windows such as
    /// "within 30s after ts1-down" open here, so the state before the event cannot satisfy them.
    /// </summary>
    public double? HappenedAt(string eventId)
    {
        lock (_gate)
        {
            return DoneAt(eventId);
        }
    }

    private double? DoneAt(string eventId) => _index.TryGetValue(eventId, out var i) ? _states[i].DoneAt : null;

    private static bool Holds(Condition condition, FleetSnapshot fleet, ActionTracker actions)
    {
        switch (condition)
        {
            case StateCondition s:
                var (matching, population) = fleet.Count(s.Metric, s.Channel, s.Of);
                return s.Op.Holds(s.Value.Observe(matching, population), s.Value.Value);
            case ActionCondition a:
                if (actions.Find(a.EventId) is not { } tracked)
                {
                    return false;
                }

                Func<Protocol.Admin.ActionTargetStatus, DateTimeOffset?> reached = a.Metric switch
                {
                    ActionMetric.Delivered => t => t.DeliveredAt,
                    ActionMetric.Completed => t => tracked.IsFinal(t.State) ? t.CompletedAt ?? t.DeliveredAt : null,
                    ActionMetric.Succeeded => t => t.State == TaskState.Succeeded ? t.CompletedAt : null,
                    ActionMetric.NotSent => t => t.State == TaskState.NotSent ? t.CompletedAt : null,
                    _ => t => t.State is TaskState.Failed or TaskState.TimedOut ? t.CompletedAt : null,
                };
                var (count, targets) = tracked.CountWithin(reached, null);
                return a.Op.Holds(a.Value.Observe(count, targets), a.Value.Value);
            default:
                return false;
        }
    }

    private static double? Round(double? seconds) => seconds is { } s ? Math.Round(s, 2) : null;

    private sealed class State
    {
        public double? ArmedAt;
        public double? MetAt;
        public double? FiredAt;
        public double? DoneAt;
        public bool TimedOut;
        public int Agents;
        public string? Detail;
        public EventOutcome Outcome = EventOutcome.Pending;
    }

    /// <summary>An event that has become due: the engine performs it and reports how it went.</summary>
    internal sealed class DueEvent(Timeline owner, int index, TimelineEvent e)
    {
        public TimelineEvent Event { get; } = e;

        public void Started(double now, int agents)
        {
            lock (owner._gate)
            {
                owner._states[index].Agents = agents;
            }
        }

        public void Done(string? detail) => Finish(owner._states[index].TimedOut ? EventOutcome.TimedOut : EventOutcome.Done, detail);

        public void Failed(string reason) => Finish(EventOutcome.Failed, reason);

        private void Finish(EventOutcome outcome, string? detail)
        {
            lock (owner._gate)
            {
                var state = owner._states[index];
                state.Outcome = outcome;
                state.DoneAt = Math.Max(state.FiredAt ?? 0, owner._clockNow());
                state.Detail = string.Join("; ", new[] { state.Detail, detail }.Where(d => !string.IsNullOrEmpty(d)));
            }
        }
    }

    private Func<double> _clockNow = () => 0;

    /// <summary>The run's clock, for when an event finishes (set by the runner).</summary>
    public Timeline WithClock(Func<double> clock)
    {
        _clockNow = clock;
        return this;
    }
}
