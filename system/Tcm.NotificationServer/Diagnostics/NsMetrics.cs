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
    private readonly CountedCounter _refused;
    private readonly CountedCounter _handshakeFailures;
    private readonly CountedCounter _pushesSent;
    private readonly CountedCounter _acks;
    private readonly CountedCounter _resultsStored;
    private readonly CountedCounter _duplicates;
    private readonly CountedHistogram _deliveryLatency;
    private readonly CountsByKey _refusedByReason = new();

    public NsMetrics(IMeterFactory meters)
        : base(meters, MeterName)
    {
        _channels = new(Meter, "tcm.ns", "tcm.ns.connections.live");
        _refused = Counter("tcm.ns.connections.refused", "{connection}", "Channel requests refused, by reason.");
        _handshakeFailures = Counter("tcm.ns.handshake_failures", "{connection}", "TLS handshakes that failed.");
        _pushesSent = Counter("tcm.ns.pushes.sent", "{push}", "Push messages written to channels.");
        _acks = Counter("tcm.ns.acks", "{ack}", "Acknowledgements that moved an agent's acknowledged sequence.");
        _resultsStored = Counter("tcm.ns.results.stored", "{result}", "Results stored.");
        _duplicates = Counter("tcm.ns.results.duplicates", "{result}", "Results received again and not stored again.");
        _deliveryLatency = Milliseconds("tcm.ns.delivery.latency", "Push stored to acknowledged by the agent.");
    }

    /// <summary>Channels accepted and agent HTTP requests, by transport and route.</summary>
    public ChannelInstruments Channels => _channels;

    /// <summary>Live connections right now.</summary>
    public long LiveConnections => _channels.Live;

    long IChannelFigures.Live => _channels.Live;

    long IChannelFigures.Accepted => _channels.Opened;

    /// <summary>Pushes waiting for their acknowledgement, read at each collection.</summary>
    public void ObserveQueuedPushes(Func<long> queued) =>
        Gauge("tcm.ns.pushes.queued", queued, "{push}", "Pushes stored and not yet acknowledged, over all agents.");

    public void ConnectionRefused(string reason)
    {
        _refused.Add(1, "reason", reason);
        _refusedByReason.Increment(reason);
    }

    public void HandshakeFailed() => _handshakeFailures.Add();

    public void PushesSent(int count) => _pushesSent.Add(count);

    public void Ack() => _acks.Add();

    public void ResultStored() => _resultsStored.Add();

    public void DuplicateResult() => _duplicates.Add();

    public void DeliveryLatency(double milliseconds) => _deliveryLatency.Record(milliseconds);

    /// <summary>The figures as <c>GET /tcm/admin/metrics</c> returns them.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        var snapshot = new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            ["connections.opened"] = _channels.Opened,
            ["connections.closed"] = _channels.Closed,
            ["connections.live"] = _channels.Live,
            ["connections.refused"] = _refusedByReason.Sum,
            ["pushes.sent"] = _pushesSent.Total,
            ["acks"] = _acks.Total,
            ["results.stored"] = _resultsStored.Total,
            ["results.duplicates"] = _duplicates.Total,
            ["delivery.latency.count"] = _deliveryLatency.Count,
            ["delivery.latency.mean_ms"] = _deliveryLatency.Mean,
            ["delivery.latency.max_ms"] = _deliveryLatency.Max,
        };
        foreach (var (reason, n) in _refusedByReason.Counts)
        {
            snapshot["connections.refused." + reason] = n;
        }

        return snapshot;
    }
}
