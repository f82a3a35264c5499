using Tcm.Simulator.Reports;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Engine;

/// <summary>
/// How agents reconnect after events (a server started again after an outage): when the event has happened, the running agents whose
/// policy wants persistent connections, that had been reconnected (every connection persistent) at an earlier sample and are not then,
/// are watched, and each one's reconnect time is the first sample, after that, at which every connection it has is persistent again.
/// Agents that poll by their profile, or never held their connections, are not reconnects. Sampled at the engine's tick: good to a
/// quarter second.
/// </summary>
internal sealed class ReconnectTracker
{
    private readonly Dictionary<string, Watch> _watches;
    private readonly HashSet<string> _expected;
    // Which agents have been reconnected at some sample so far (only kept when something is watched).
    private bool[] _connectedBefore = [];

    /// <param name="scenario">Its <c>start-server</c> events are watched for the report, and every event a <c>reconnected</c> expectation names.</param>
    public ReconnectTracker(Scenario scenario)
    {
        _expected = scenario.Expectations.OfType<LatencyExpectation>().Where(l => l.Phase == LatencyPhase.Reconnected).Select(l => l.EventId!).ToHashSet(StringComparer.Ordinal);
        _watches = scenario.Timeline.Where(e => e.Action is ServerAction { Operation: ServerOperation.Start }).Select(e => e.Id)
            .Concat(_expected).Distinct(StringComparer.Ordinal).ToDictionary(id => id, _ => new Watch(), StringComparer.Ordinal);
    }

    /// <summary>Whether every event an expectation names has happened and every agent it watches reconnected (the run may end early only then).</summary>
    public bool Decided => _expected.All(id => _watches[id] is { Tracked: { } tracked } w && w.Reconnected == tracked.Length);

    public void Observe(FleetSnapshot snapshot, Func<string, double?> happenedAt)
    {
        if (_watches.Count == 0)
        {
            return;
        }

        foreach (var (id, watch) in _watches)
        {
            if (watch.Tracked is null)
            {
                if (happenedAt(id) is { } happened && snapshot.At >= happened)
                {
                    watch.Start(snapshot, happened, _connectedBefore);
                }
            }
            else
            {
                watch.Observe(snapshot);
            }
        }

        if (_connectedBefore.Length != snapshot.Size)
        {
            Array.Resize(ref _connectedBefore, snapshot.Size);
        }

        for (var i = 0; i < snapshot.Size; i++)
        {
            _connectedBefore[i] |= snapshot.IsReconnected(i);
        }
    }

    /// <summary>The spread of reconnects after each watched event that happened, by event id.</summary>
    public IReadOnlyDictionary<string, ReconnectSpread> Results() => _watches
        .Where(w => w.Value.Tracked is not null)
        .ToDictionary(w => w.Key, w => ReconnectSpread.From(w.Key, w.Value.Happened, w.Value.Tracked!.Length, w.Value.Times()), StringComparer.Ordinal);

    private sealed class Watch
    {
        private double?[] _times = [];

        public int[]? Tracked { get; private set; }

        public double Happened { get; private set; }

        public int Reconnected { get; private set; }

        public void Start(FleetSnapshot snapshot, double happened, bool[] connectedBefore)
        {
            Happened = happened;
            Tracked = Enumerable.Range(0, snapshot.Size).Where(i => i < connectedBefore.Length && connectedBefore[i] && snapshot.WantsChannel(i) && !snapshot.IsReconnected(i)).ToArray();
            _times = new double?[Tracked.Length];
        }

        public void Observe(FleetSnapshot snapshot)
        {
            for (var k = 0; k < Tracked!.Length; k++)
            {
                if (_times[k] is null && snapshot.IsReconnected(Tracked[k]))
                {
                    _times[k] = Math.Max(0, snapshot.At - Happened);
                    Reconnected++;
                }
            }
        }

        public IEnumerable<double> Times() => _times.OfType<double>();
    }
}
