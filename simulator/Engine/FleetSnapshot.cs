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
                ? new Row(false, ConnectionMode.Offline, TransportKind.Http, ConnectionMode.Offline, TransportKind.Http, false)
                : new Row(
                    true,
                    status.Mode,
                    status.Transport,
                    status.TaskServer?.Mode ?? ConnectionMode.Offline,
                    status.TaskServer?.Transport ?? TransportKind.Http,
                    status.TaskServer is not null);
        }

        return new FleetSnapshot(agents, rows, at);
    }

    /// <summary>How many agents of <paramref name="population"/> satisfy <paramref name="metric"/> on <paramref name="channel"/>, and how many are in the population.</summary>
    public (int Matching, int Population) Count(StateMetric metric, ChannelScope channel, Population population)
    {
        int matching = 0, total = 0;
        for (var i = 0; i < _rows.Length; i++)
        {
            if (!Selector.InPopulation(_agents[i], population))
            {
                continue;
            }

            total++;
            var row = _rows[i];
            var holds = channel switch
            {
                ChannelScope.Ns => Holds(metric, row.Running, row.Mode, row.Transport),
                ChannelScope.Ts => row.HasTaskServer && Holds(metric, row.Running, row.TsMode, row.TsTransport),
                _ => Holds(metric, row.Running, row.Mode, row.Transport) && row.HasTaskServer && Holds(metric, row.Running, row.TsMode, row.TsTransport),
            };
            if (holds)
            {
                matching++;
            }
        }

        return (matching, total);
    }

    public Reports.ModeSample ToSample(int openSockets)
    {
        int running = 0, direct = 0, cem = 0, offline = 0, persistent = 0, http = 0, tsCem = 0, tsPersistent = 0;
        foreach (var row in _rows)
        {
            if (row.Running)
            {
                running++;
            }

            switch (row.Running ? row.Mode : ConnectionMode.Offline)
            {
                case ConnectionMode.Direct: direct++; break;
                case ConnectionMode.Cem: cem++; break;
                default: offline++; break;
            }

            if (row.Running && row.Mode != ConnectionMode.Offline)
            {
                if (row.Transport == TransportKind.Persistent)
                {
                    persistent++;
                }
                else
                {
                    http++;
                }
            }

            if (row.HasTaskServer && row.TsMode == ConnectionMode.Cem)
            {
                tsCem++;
            }

            if (row.HasTaskServer && row.TsTransport == TransportKind.Persistent)
            {
                tsPersistent++;
            }
        }

        return new Reports.ModeSample
        {
            At = Math.Round(At, 1),
            Running = running,
            Direct = direct,
            Cem = cem,
            Offline = offline,
            Persistent = persistent,
            Http = http,
            TsCem = tsCem,
            TsPersistent = tsPersistent,
            OpenSockets = openSockets,
        };
    }

    private static bool Holds(StateMetric metric, bool running, ConnectionMode mode, TransportKind transport) => metric switch
    {
        StateMetric.Running => running,
        StateMetric.Connected => running && mode != ConnectionMode.Offline,
        StateMetric.Direct => running && mode == ConnectionMode.Direct,
        StateMetric.Cem => running && mode == ConnectionMode.Cem,
        StateMetric.Offline => !running || mode == ConnectionMode.Offline,
        StateMetric.Persistent => running && transport == TransportKind.Persistent,
        StateMetric.Http => running && mode != ConnectionMode.Offline && transport == TransportKind.Http,
        _ => false,
    };

    private readonly record struct Row(bool Running, ConnectionMode Mode, TransportKind Transport, ConnectionMode TsMode, TransportKind TsTransport, bool HasTaskServer);
}
