using Tcm.Lab;
using Tcm.Protocol.Admin;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Engine;

/// <summary>The fleet's state at one instant: one row per virtual agent, read once and shared by conditions, expectations, samples and the live view.</summary>
internal sealed class FleetSnapshot
{
    private readonly Row[] _rows;
    private readonly IReadOnlyList<VirtualAgent> _agents;

    private FleetSnapshot(IReadOnlyList<VirtualAgent> agents, Row[] rows, double at)
    {
        _agents = agents;
        _rows = rows;
        At = at;
    }

    /// <summary>Seconds since the run started.</summary>
    public double At { get; }

    public int Size => _rows.Length;

    public static FleetSnapshot Take(IReadOnlyList<VirtualAgent> agents, double at)
    {
        var rows = new Row[agents.Count];
        for (var i = 0; i < agents.Count; i++)
        {
            var agent = agents[i];
            var status = agent.IsRunning ? agent.Agent?.GetNetworkStatus() : null;
            rows[i] = status is null
                ? new Row(false, Leg.Offline, Leg.Offline, false, false, null)
                : new Row(true, Leg.Of(status), status.TaskServer is { } ts ? Leg.Of(ts) : Leg.Offline, status.TaskServer is not null,
                    agent.Agent?.Policy is { TcmEnabled: true, Communication.PersistentConnection: true }, InProcessLab.NodeOf(status.ServerAddress));
        }

        return new FleetSnapshot(agents, rows, at);
    }

    /// <summary>How many agents of <paramref name="population"/> satisfy <paramref name="metric"/> on <paramref name="channel"/>, and how many are in the population.</summary>
    public (int Matching, int Population) Count(StateMetric metric, ChannelScope channel, Population population)
    {
        int matching = 0, total = 0;
        for (var i = 0; i < _rows.Length; i++)
        {
            if (!Selector.InPopulation(_agents[i], population) || (population.Node is { } node && _rows[i].Node != node))
            {
                continue;
            }

            total++;
            if (Holds(metric, channel, _rows[i]))
            {
                matching++;
            }
        }

        return (matching, total);
    }

    /// <summary>Whether agent <paramref name="index"/> (in the fleet's order) runs with a policy that wants persistent connections (TCM on, its profile's "Persistent connection").</summary>
    public bool WantsChannel(int index) => _rows[index].Running && _rows[index].WantsChannel;

    /// <summary>Whether agent <paramref name="index"/> runs with every connection it has persistent (the NS's, and the Task Server's when it has one).</summary>
    public bool IsReconnected(int index)
    {
        var row = _rows[index];
        return row.Running && row.Ns.Transport == TransportKind.Persistent && (!row.HasTaskServer || row.Ts.Transport == TransportKind.Persistent);
    }

    /// <summary>The fleet's modes as the report samples them; each count is the one a condition on that state makes over the whole fleet.</summary>
    public Reports.ModeSample ToSample(int openSockets, bool byNode = false) => new()
    {
        PersistentByNode = byNode ? PersistentByNode() : null,
        At = Math.Round(At, 1),
        Running = CountAll(StateMetric.Running, ChannelScope.Ns),
        Direct = CountAll(StateMetric.Direct, ChannelScope.Ns),
        Cem = CountAll(StateMetric.Cem, ChannelScope.Ns),
        Offline = CountAll(StateMetric.Offline, ChannelScope.Ns),
        Persistent = CountAll(StateMetric.Persistent, ChannelScope.Ns),
        Http = CountAll(StateMetric.Http, ChannelScope.Ns),
        TsCem = CountAll(StateMetric.Cem, ChannelScope.Ts),
        TsPersistent = CountAll(StateMetric.Persistent, ChannelScope.Ts),
        OpenSockets = openSockets,
    };

    private int CountAll(StateMetric metric, ChannelScope channel) => _rows.Count(row => Holds(metric, channel, row));

    private static bool Holds(StateMetric metric, ChannelScope channel, Row row) => channel switch
    {
        ChannelScope.Ns => Holds(metric, row.Running, row.Ns),
        ChannelScope.Ts => row.HasTaskServer && Holds(metric, row.Running, row.Ts),
        _ => Holds(metric, row.Running, row.Ns) && row.HasTaskServer && Holds(metric, row.Running, row.Ts),
    };

    private static bool Holds(StateMetric metric, bool running, Leg leg) => metric switch
    {
        StateMetric.Proxied => running && leg.Proxied,
        StateMetric.ProxyFailing => running && leg.ProxyFailing,
        _ => Holds(metric, running, leg.Mode, leg.Transport, leg.Attempt),
    };

    private static bool Holds(StateMetric metric, bool running, ConnectionMode mode, TransportKind transport, AttemptOutcome? attempt) => metric switch
    {
        >= StateMetric.AttemptConnected => running && attempt is { } outcome && StateMetrics.AttemptOf(metric) == outcome,
        StateMetric.Running => running,
        StateMetric.Connected => running && mode != ConnectionMode.Offline,
        StateMetric.Direct => running && mode == ConnectionMode.Direct,
        StateMetric.Cem => running && mode == ConnectionMode.Cem,
        StateMetric.Offline => !running || mode == ConnectionMode.Offline,
        StateMetric.Persistent => running && transport == TransportKind.Persistent,
        StateMetric.Http => running && mode != ConnectionMode.Offline && transport == TransportKind.Http,
        _ => false,
    };

    /// <summary>The lab node agent <paramref name="index"/>'s persistent Notification Server channel is open to now, or null (none open, or not a lab node).</summary>
    public string? PersistentNode(int index) =>
        _rows[index] is { Running: true, Ns.Transport: TransportKind.Persistent } row ? row.Node : null;

    /// <summary>How many agents hold a persistent Notification Server channel to each lab node now, by node name.</summary>
    public SortedDictionary<string, int> PersistentByNode()
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < _rows.Length; i++)
        {
            if (PersistentNode(i) is { } node)
            {
                counts[node] = counts.GetValueOrDefault(node) + 1;
            }
        }

        return counts;
    }

    /// <summary>One agent's state; <paramref name="Node"/> is the lab node its Notification Server connection goes to (null: none, or not a lab node).</summary>
    private readonly record struct Row(bool Running, Leg Ns, Leg Ts, bool HasTaskServer, bool WantsChannel, string? Node);

    /// <summary>One connection's state: its mode and transport, and whether it goes through the proxy or reports the proxy failing, and how its last attempt ended.</summary>
    private readonly record struct Leg(ConnectionMode Mode, TransportKind Transport, bool Proxied, bool ProxyFailing, AttemptOutcome? Attempt)
    {
        public static Leg Offline => new(ConnectionMode.Offline, TransportKind.Http, false, false, null);

        public static Leg Of(NetworkStatus status) => new(status.Mode, status.Transport, status.Proxy is not null, status.ProxyProblem is not null, status.LastAttempt?.Outcome);
    }
}
