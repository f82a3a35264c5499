using System.Diagnostics.Metrics;
using Tcm.Gateway.Certificates;
using Tcm.Gateway.Relay;
using Tcm.Hosting.Diagnostics;

namespace Tcm.Gateway.Diagnostics;

/// <summary>
/// The gateway's "performance counters": <c>Meter("Tcm.Gateway")</c> for exporters (scraped at <c>/metrics</c>, exported over
/// OTLP), and the same figures as plain counters for the status endpoint. Per-second rates are sampled by
/// <see cref="GatewayHeartbeat"/>. The relay records tunnels, bytes and rejections through the methods below.
/// </summary>
internal sealed class GatewayMetrics : ServerMeter
{
    public const string MeterName = "Tcm.Gateway";

    private readonly CountedCounter _connects;
    private readonly CountedCounter _rejections;
    private readonly CountedCounter _handshakeFailures;
    private readonly CountedCounter _bytesToBackends;
    private readonly CountedCounter _bytesToAgents;
    private readonly UpDownCounter<long> _tunnels;
    private readonly Counter<long> _relayErrors;
    private readonly CountsByKey _rejectionsByCode = new();
    private long _agentsConnected;
    private long _lastConnects;
    private long _lastRejections;

    public GatewayMetrics(IMeterFactory meters, CertificateApprovals approvals)
        : base(meters, MeterName)
    {
        Meter.CreateObservableUpDownCounter("tcm.gateway.agents.connected", () => Interlocked.Read(ref _agentsConnected), "{connection}", "Agent TLS connections open");
        _tunnels = Meter.CreateUpDownCounter<long>("tcm.gateway.tunnels", "{tunnel}", "WebSocket tunnels open, by backend");
        _connects = Counter("tcm.gateway.connects", "{connection}", "Agent TLS connections accepted");
        _rejections = Counter("tcm.gateway.rejections", "{request}", "Requests refused, by code");
        _handshakeFailures = Counter("tcm.gateway.handshake_failures", "{connection}", "TLS handshakes that failed");
        _relayErrors = Meter.CreateCounter<long>("tcm.gateway.relay.errors", "{exchange}", "Relayed requests and tunnels that ended in an error, by kind");
        // why: one instrument for both directions (tagged), and a total per direction for the status page.
        var bytes = Meter.CreateCounter<long>("tcm.gateway.bytes", "By", "Bytes relayed, by direction");
        _bytesToBackends = new(bytes, "direction", "to-backend");
        _bytesToAgents = new(bytes, "direction", "to-agent");
        Meter.CreateObservableGauge("tcm.gateway.certificates", () => new[]
        {
            new Measurement<int>(approvals.HeldCount, new KeyValuePair<string, object?>("state", "held")),
            new Measurement<int>(approvals.ApprovedCount, new KeyValuePair<string, object?>("state", "approved")),
            new Measurement<int>(approvals.BlockedCount, new KeyValuePair<string, object?>("state", "blocked")),
        }, "{certificate}", "Certificates held, approved and blocked");
    }

    public long AgentsConnected => Interlocked.Read(ref _agentsConnected);

    public long ConnectsTotal => _connects.Total;

    public long RejectionsTotal => _rejections.Total;

    public long HandshakeFailures => _handshakeFailures.Total;

    public long BytesToBackends => _bytesToBackends.Total;

    public long BytesToAgents => _bytesToAgents.Total;

    /// <summary>Connects in the last whole second (sampled by the heartbeat).</summary>
    public double ConnectsPerSecond { get; private set; }

    /// <summary>Rejections in the last whole second (sampled by the heartbeat).</summary>
    public double RejectionsPerSecond { get; private set; }

    public IReadOnlyDictionary<string, long> RejectionsByCode => _rejectionsByCode.Counts;

    public void Connected()
    {
        Interlocked.Increment(ref _agentsConnected);
        _connects.Add();
    }

    public void Disconnected() => Interlocked.Decrement(ref _agentsConnected);

    public void HandshakeFailed() => _handshakeFailures.Add();

    public void Rejected(string code)
    {
        _rejectionsByCode.Increment(code);
        _rejections.Add(1, "code", code);
    }

    /// <summary>Counts a relayed exchange that ended in <paramref name="error"/> (YARP's forwarder error, in the gateway's terms).</summary>
    public void RelayFailed(RelayError error) => _relayErrors.Add(1, new KeyValuePair<string, object?>("kind", error.ToCode()));

    public void TunnelOpened(string backend) => _tunnels.Add(1, new KeyValuePair<string, object?>("backend", backend));

    public void TunnelClosed(string backend) => _tunnels.Add(-1, new KeyValuePair<string, object?>("backend", backend));

    public void ToBackend(int bytes) => _bytesToBackends.Add(bytes);

    public void ToAgent(int bytes) => _bytesToAgents.Add(bytes);

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
}
