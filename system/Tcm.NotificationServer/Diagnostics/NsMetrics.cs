using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

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
    private readonly Counter<long> _opened;
    private readonly Counter<long> _closed;
    private readonly Counter<long> _refused;
    private readonly UpDownCounter<long> _live;
    private readonly Counter<long> _pushesSent;
    private readonly Counter<long> _acks;
    private readonly Counter<long> _resultsStored;
    private readonly Counter<long> _duplicates;
    private readonly Histogram<double> _deliveryLatency;
    private readonly ConcurrentDictionary<string, long> _refusedByReason = new(StringComparer.Ordinal);
    private long _openedCount;
    private long _closedCount;
    private long _liveCount;
    private long _pushesSentCount;
    private long _acksCount;
    private long _resultsStoredCount;
    private long _duplicatesCount;
    private long _latencyCount;
    private long _latencySumMs;
    private long _latencyMaxMs;

    public NsMetrics()
    {
        _meter = new Meter(MeterName);
        _opened = _meter.CreateCounter<long>("tcm.ns.connections.opened", description: "Persistent connections accepted.");
        _closed = _meter.CreateCounter<long>("tcm.ns.connections.closed", description: "Persistent connections ended.");
        _refused = _meter.CreateCounter<long>("tcm.ns.connections.refused", description: "Channel requests refused, by reason.");
        _live = _meter.CreateUpDownCounter<long>("tcm.ns.connections.live", description: "Persistent connections open now.");
        _pushesSent = _meter.CreateCounter<long>("tcm.ns.pushes.sent", description: "Push messages written to channels.");
        _acks = _meter.CreateCounter<long>("tcm.ns.acks", description: "Acknowledgements that moved an agent's acknowledged sequence.");
        _resultsStored = _meter.CreateCounter<long>("tcm.ns.results.stored", description: "Results stored.");
        _duplicates = _meter.CreateCounter<long>("tcm.ns.results.duplicates", description: "Results received again and not stored again.");
        _deliveryLatency = _meter.CreateHistogram<double>("tcm.ns.delivery.latency", unit: "ms", description: "Push creation to acknowledgement.");
    }

    public void ConnectionOpened()
    {
        _opened.Add(1);
        _live.Add(1);
        Interlocked.Increment(ref _openedCount);
        Interlocked.Increment(ref _liveCount);
    }

    public void ConnectionClosed()
    {
        _closed.Add(1);
        _live.Add(-1);
        Interlocked.Increment(ref _closedCount);
        Interlocked.Decrement(ref _liveCount);
    }

    public void ConnectionRefused(string reason)
    {
        _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));
        _refusedByReason.AddOrUpdate(reason, 1, static (_, n) => n + 1);
    }

    public void PushesSent(int count)
    {
        _pushesSent.Add(count);
        Interlocked.Add(ref _pushesSentCount, count);
    }

    public void Ack()
    {
        _acks.Add(1);
        Interlocked.Increment(ref _acksCount);
    }

    public void ResultStored()
    {
        _resultsStored.Add(1);
        Interlocked.Increment(ref _resultsStoredCount);
    }

    public void DuplicateResult()
    {
        _duplicates.Add(1);
        Interlocked.Increment(ref _duplicatesCount);
    }

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

    /// <summary>Live connections right now.</summary>
    public long LiveConnections => Interlocked.Read(ref _liveCount);

    /// <summary>The figures as <c>GET /tcm/admin/metrics</c> returns them.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        var count = Interlocked.Read(ref _latencyCount);
        var snapshot = new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            ["connections.opened"] = Interlocked.Read(ref _openedCount),
            ["connections.closed"] = Interlocked.Read(ref _closedCount),
            ["connections.live"] = Interlocked.Read(ref _liveCount),
            ["connections.refused"] = _refusedByReason.Values.Sum(),
            ["pushes.sent"] = Interlocked.Read(ref _pushesSentCount),
            ["acks"] = Interlocked.Read(ref _acksCount),
            ["results.stored"] = Interlocked.Read(ref _resultsStoredCount),
            ["results.duplicates"] = Interlocked.Read(ref _duplicatesCount),
            ["delivery.latency.count"] = count,
            ["delivery.latency.mean_ms"] = count == 0 ? 0 : Interlocked.Read(ref _latencySumMs) / count,
            ["delivery.latency.max_ms"] = Interlocked.Read(ref _latencyMaxMs),
        };
        foreach (var (reason, n) in _refusedByReason)
        {
            snapshot["connections.refused." + reason] = n;
        }

        return snapshot;
    }

    public void Dispose() => _meter.Dispose();
}
