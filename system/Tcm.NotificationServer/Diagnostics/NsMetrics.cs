using System.Diagnostics.Metrics;
using Tcm.Hosting.Diagnostics;

namespace Tcm.NotificationServer.Diagnostics;

/// <summary>
/// The server's counters, published on the <c>Tcm.NotificationServer</c> meter (scraped at <c>/metrics</c>, exported over
/// OTLP) and kept as plain figures for <c>GET /tcm/admin/metrics</c>.
/// </summary>
internal sealed class NsMetrics : ServerMeter, IChannelFigures
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "Tcm.NotificationServer";

    private readonly ChannelInstruments _channels;
    private readonly DeliveryInstruments _delivery;
    private readonly CountedCounter _refused;
    private readonly CountsByKey _refusedByReason = new();
    private Func<long> _pushesWaiting = static () => 0;
    private Func<long> _pushesInFlight = static () => 0;

    public NsMetrics(IMeterFactory meters)
        : base(meters, MeterName)
    {
        _channels = new(Meter, "tcm.ns", "tcm.ns.connections.live");
        _delivery = new(Meter, "tcm.ns", "tcm.ns.results.stored", "tcm.ns.results.duplicates");
        _refused = Counter("tcm.ns.connections.refused", "{connection}", "Channel requests refused, by reason.");
    }

    /// <summary>Channels accepted and agent HTTP requests, by transport and route.</summary>
    public ChannelInstruments Channels => _channels;

    /// <summary>Live connections right now.</summary>
    public long LiveConnections => _channels.Live;

    long IChannelFigures.Live => _channels.Live;

    long IChannelFigures.Accepted => _channels.Opened;

    public void ConnectionRefused(string reason)
    {
        _refused.Add(1, "reason", reason);
        _refusedByReason.Increment(reason);
    }

    public void HandshakeFailed() => _delivery.HandshakeFailures.Add();

    public void PushesSent(int count) => _delivery.Pushes.Add(count);

    public void Ack() => _delivery.Acks.Add();

    public void ResultStored() => _delivery.Results.Add();

    public void DuplicateResult() => _delivery.Duplicates.Add();

    public void DeliveryLatency(double milliseconds) => _delivery.Latency.Record(milliseconds);

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
            ["connections.opened"] = _channels.Opened,
            ["connections.closed"] = _channels.Closed,
            ["connections.live"] = _channels.Live,
            ["connections.refused"] = _refusedByReason.Sum,
            ["pushes.sent"] = _delivery.Pushes.Total,
            ["pushes.waiting"] = _pushesWaiting(),
            ["pushes.in_flight"] = _pushesInFlight(),
            ["acks"] = _delivery.Acks.Total,
            ["results.stored"] = _delivery.Results.Total,
            ["results.duplicates"] = _delivery.Duplicates.Total,
            ["delivery.latency.count"] = _delivery.Latency.Count,
            ["delivery.latency.mean_ms"] = _delivery.Latency.Mean,
            ["delivery.latency.max_ms"] = _delivery.Latency.Max,
        };
        foreach (var (reason, n) in _refusedByReason.Counts)
        {
            snapshot["connections.refused." + reason] = n;
        }

        return snapshot;
    }
}
