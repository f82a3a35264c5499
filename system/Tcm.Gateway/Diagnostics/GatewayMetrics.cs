using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Tcm.Gateway.Certificates;

namespace Tcm.Gateway.Diagnostics;

/// <summary>
/// The gateway's "performance counters": <c>Meter("Tcm.Gateway")</c> for exporters, and the same figures as plain counters for
/// the status endpoint. Per-second rates are sampled by <see cref="GatewayHeartbeat"/>.
/// </summary>
internal sealed class GatewayMetrics : IDisposable
{
    public const string MeterName = "Tcm.Gateway";

    private readonly Meter _meter;
    private readonly Counter<long> _connects;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _handshakeFailures;
    private readonly Counter<long> _bytes;
    private readonly UpDownCounter<long> _tunnels;
    private readonly ConcurrentDictionary<string, long> _rejectionsByCode = new(StringComparer.Ordinal);
    private long _agentsConnected;
    private long _connectsTotal;
    private long _rejectionsTotal;
    private long _handshakeFailuresTotal;
    private long _bytesToBackends;
    private long _bytesToAgents;
    private long _lastConnects;
    private long _lastRejections;

    public GatewayMetrics(CertificateApprovals approvals)
    {
        _meter = new Meter(MeterName);
        _meter.CreateObservableUpDownCounter("tcm.gateway.agents.connected", () => Interlocked.Read(ref _agentsConnected), "{connection}", "Agent TLS connections open");
        _tunnels = _meter.CreateUpDownCounter<long>("tcm.gateway.tunnels", "{tunnel}", "WebSocket tunnels open, by backend");
        _connects = _meter.CreateCounter<long>("tcm.gateway.connects", "{connection}", "Agent TLS connections accepted");
        _rejections = _meter.CreateCounter<long>("tcm.gateway.rejections", "{request}", "Requests refused, by code");
        _handshakeFailures = _meter.CreateCounter<long>("tcm.gateway.handshake_failures", "{connection}", "TLS handshakes that failed");
        _bytes = _meter.CreateCounter<long>("tcm.gateway.bytes", "By", "Bytes relayed, by direction");
        _meter.CreateObservableGauge("tcm.gateway.certificates", () => new[]
        {
            new Measurement<int>(approvals.HeldCount, new KeyValuePair<string, object?>("state", "held")),
            new Measurement<int>(approvals.ApprovedCount, new KeyValuePair<string, object?>("state", "approved")),
            new Measurement<int>(approvals.BlockedCount, new KeyValuePair<string, object?>("state", "blocked")),
        }, "{certificate}", "Certificates held, approved and blocked");
    }

    public long AgentsConnected => Interlocked.Read(ref _agentsConnected);

    public long ConnectsTotal => Interlocked.Read(ref _connectsTotal);

    public long RejectionsTotal => Interlocked.Read(ref _rejectionsTotal);

    public long HandshakeFailures => Interlocked.Read(ref _handshakeFailuresTotal);

    public long BytesToBackends => Interlocked.Read(ref _bytesToBackends);

    public long BytesToAgents => Interlocked.Read(ref _bytesToAgents);

    /// <summary>Connects in the last whole second (sampled by the heartbeat).</summary>
    public double ConnectsPerSecond { get; private set; }

    /// <summary>Rejections in the last whole second (sampled by the heartbeat).</summary>
    public double RejectionsPerSecond { get; private set; }

    public IReadOnlyDictionary<string, long> RejectionsByCode => _rejectionsByCode;

    public void Connected()
    {
        Interlocked.Increment(ref _agentsConnected);
        Interlocked.Increment(ref _connectsTotal);
        _connects.Add(1);
    }

    public void Disconnected() => Interlocked.Decrement(ref _agentsConnected);

    public void HandshakeFailed()
    {
        Interlocked.Increment(ref _handshakeFailuresTotal);
        _handshakeFailures.Add(1);
    }

    public void Rejected(string code)
    {
        Interlocked.Increment(ref _rejectionsTotal);
        _rejectionsByCode.AddOrUpdate(code, 1, static (_, n) => n + 1);
        _rejections.Add(1, new KeyValuePair<string, object?>("code", code));
    }

    public void TunnelOpened(string backend) => _tunnels.Add(1, new KeyValuePair<string, object?>("backend", backend));

    public void TunnelClosed(string backend) => _tunnels.Add(-1, new KeyValuePair<string, object?>("backend", backend));

    public void ToBackend(int bytes)
    {
        Interlocked.Add(ref _bytesToBackends, bytes);
        _bytes.Add(bytes, new KeyValuePair<string, object?>("direction", "to-backend"));
    }

    public void ToAgent(int bytes)
    {
        Interlocked.Add(ref _bytesToAgents, bytes);
        _bytes.Add(bytes, new KeyValuePair<string, object?>("direction", "to-agent"));
    }

    /// <summary>Turns the totals into per-second rates over <paramref name="elapsed"/>.</summary>
    public void SampleRates(TimeSpan elapsed)
    {
        var connects = ConnectsTotal;
        var rejections = RejectionsTotal;
        var seconds = Math.Max(elapsed.TotalSeconds, 0.001);
        ConnectsPerSecond = (connects - _lastConnects) / seconds;
        RejectionsPerSecond = (rejections - _lastRejections) / seconds;
        _lastConnects = connects;
        _lastRejections = rejections;
    }

    public void Dispose() => _meter.Dispose();
}
