using System.Diagnostics.Metrics;
using Tcm.Hosting.Diagnostics;

namespace Tcm.NotificationServer.Diagnostics;

/// <summary>
/// The server's counters, published on the <c>Tcm.NotificationServer</c> meter (scraped at <c>/metrics</c>, exported over
/// OTLP) and kept as plain figures for <c>GET /tcm/admin/metrics</c>.
/// </summary>
internal sealed class NsMetrics : ChannelServerMeter
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "Tcm.NotificationServer";

    private readonly CountedCounter _refused;
    private readonly CountsByKey _refusedByReason = new();
    private Func<long> _pushesWaiting = static () => 0;
    private Func<long> _pushesInFlight = static () => 0;

    public NsMetrics(IMeterFactory meters)
        : base(meters, MeterName, "tcm.ns", "tcm.ns.connections.live", "tcm.ns.results.stored", "tcm.ns.results.duplicates")
    {
        _refused = Counter("tcm.ns.connections.refused", "{connection}", "Channel requests refused, by reason.");
    }

    /// <summary>Live connections right now.</summary>
    public long LiveConnections => Channels.Live;

    public void ConnectionRefused(string reason)
    {
        _refused.Add(1, "reason", reason);
        _refusedByReason.Increment(reason);
    }

    /// <summary>
    /// Publishes the delivery's queued work: <c>tcm.ns.pushes.waiting</c> (stored pushes held back until the server has room to send
    /// them) and <c>tcm.ns.pushes.in_flight</c> (sent, not yet acknowledged).
    /// </summary>
    public void ObserveQueuedWork(Func<long> waiting, Func<long> inFlight)
    {
        _pushesWaiting = waiting;
        _pushesInFlight = inFlight;
        Gauge("tcm.ns.pushes.waiting", waiting, "{push}", "Stored pushes waiting for room to be sent (back-pressure).");
        Gauge("tcm.ns.pushes.in_flight", inFlight, "{push}", "Pushes sent and not yet acknowledged.");
    }

    /// <summary>The figures as <c>GET /tcm/admin/metrics</c> returns them.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        var snapshot = new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            ["connections.opened"] = Channels.Opened,
            ["connections.closed"] = Channels.Closed,
            ["connections.live"] = Channels.Live,
            ["connections.refused"] = _refusedByReason.Sum,
            ["pushes.sent"] = Delivery.Pushes.Total,
            ["pushes.waiting"] = _pushesWaiting(),
            ["pushes.in_flight"] = _pushesInFlight(),
            ["acks"] = Delivery.Acks.Total,
            ["results.stored"] = Delivery.Results.Total,
            ["results.duplicates"] = Delivery.Duplicates.Total,
            ["delivery.latency.count"] = Delivery.Latency.Count,
            ["delivery.latency.mean_ms"] = Delivery.Latency.Mean,
            ["delivery.latency.max_ms"] = Delivery.Latency.Max,
        };
        foreach (var (reason, n) in _refusedByReason.Counts)
        {
            snapshot["connections.refused." + reason] = n;
        }

        return snapshot;
    }
}
