using System.Diagnostics.Metrics;
using Tcm.Hosting.Diagnostics;

namespace Tcm.NotificationServer.Diagnostics;

/// <summary>
/// The server's counters, published on the <c>Tcm.NotificationServer</c> meter and kept as plain figures for
/// <c>GET /tcm/admin/metrics</c>.
/// </summary>
internal sealed class NsMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "Tcm.NotificationServer";

    private readonly Meter _meter;
    private readonly CountedCounter _opened;
    private readonly CountedCounter _closed;
    private readonly CountedCounter _refused;
    private readonly CountedUpDownCounter _live;
    private readonly CountedCounter _pushesSent;
    private readonly CountedCounter _acks;
    private readonly CountedCounter _resultsStored;
    private readonly CountedCounter _duplicates;
    private readonly Histogram<double> _deliveryLatency;
    private readonly CountsByKey _refusedByReason = new();
    private long _latencyCount;
    private long _latencySumMs;
    private long _latencyMaxMs;
    private Func<long> _pushesWaiting = static () => 0;
    private Func<long> _pushesInFlight = static () => 0;

    public NsMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _opened = new(_meter, "tcm.ns.connections.opened", null, "Persistent connections accepted.");
        _closed = new(_meter, "tcm.ns.connections.closed", null, "Persistent connections ended.");
        _refused = new(_meter, "tcm.ns.connections.refused", null, "Channel requests refused, by reason.");
        _live = new(_meter, "tcm.ns.connections.live", null, "Persistent connections open now.");
        _pushesSent = new(_meter, "tcm.ns.pushes.sent", null, "Push messages written to channels.");
        _acks = new(_meter, "tcm.ns.acks", null, "Acknowledgements that moved an agent's acknowledged sequence.");
        _resultsStored = new(_meter, "tcm.ns.results.stored", null, "Results stored.");
        _duplicates = new(_meter, "tcm.ns.results.duplicates", null, "Results received again and not stored again.");
        _deliveryLatency = _meter.CreateHistogram<double>("tcm.ns.delivery.latency", unit: "ms", description: "Push creation to acknowledgement.");
    }

    public void ConnectionOpened()
    {
        _opened.Add();
        _live.Increment();
    }

    public void ConnectionClosed()
    {
        _closed.Add();
        _live.Decrement();
    }

    public void ConnectionRefused(string reason)
    {
        _refused.Add(1, "reason", reason);
        _refusedByReason.Increment(reason);
    }

    public void PushesSent(int count) => _pushesSent.Add(count);

    public void Ack() => _acks.Add();

    public void ResultStored() => _resultsStored.Add();

    public void DuplicateResult() => _duplicates.Add();

    public void DeliveryLatency(double milliseconds)
    {
        _deliveryLatency.Record(milliseconds);
        var ms = (long)Math.Max(0, milliseconds);
        Interlocked.Increment(ref _latencyCount);
        Interlocked.Add(ref _latencySumMs, ms);
        var max = Interlocked.Read(ref _latencyMaxMs);
        while (ms > max && Interlocked.CompareExchange(ref _latencyMaxMs, ms, max) != max)
        {
            max = Interlocked.Read(ref _latencyMaxMs);
        }
    }

    /// <summary>
    /// Publishes the delivery's queued work: <c>tcm.ns.pushes.waiting</c> (stored pushes held back until the server has room to send
    /// them) and <c>tcm.ns.pushes.in_flight</c> (sent, not yet acknowledged).
    /// </summary>
    public void ObserveQueuedWork(Func<long> waiting, Func<long> inFlight)
    {
        _pushesWaiting = waiting;
        _pushesInFlight = inFlight;
        _meter.CreateObservableGauge("tcm.ns.pushes.waiting", waiting, description: "Stored pushes waiting for room to be sent (back-pressure).");
        _meter.CreateObservableGauge("tcm.ns.pushes.in_flight", inFlight, description: "Pushes sent and not yet acknowledged.");
    }

    /// <summary>Live connections right now.</summary>
    public long LiveConnections => _live.Value;

    /// <summary>The figures as <c>GET /tcm/admin/metrics</c> returns them.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        var count = Interlocked.Read(ref _latencyCount);
        var snapshot = new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            ["connections.opened"] = _opened.Total,
            ["connections.closed"] = _closed.Total,
            ["connections.live"] = _live.Value,
            ["connections.refused"] = _refusedByReason.Sum,
            ["pushes.sent"] = _pushesSent.Total,
            ["pushes.waiting"] = _pushesWaiting(),
            ["pushes.in_flight"] = _pushesInFlight(),
            ["acks"] = _acks.Total,
            ["results.stored"] = _resultsStored.Total,
            ["results.duplicates"] = _duplicates.Total,
            ["delivery.latency.count"] = count,
            ["delivery.latency.mean_ms"] = count == 0 ? 0 : Interlocked.Read(ref _latencySumMs) / count,
            ["delivery.latency.max_ms"] = Interlocked.Read(ref _latencyMaxMs),
        };
        foreach (var (reason, n) in _refusedByReason.Counts)
        {
            snapshot["connections.refused." + reason] = n;
        }

        return snapshot;
    }

    public void Dispose() => _meter.Dispose();
}
