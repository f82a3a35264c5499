using System.Diagnostics.Metrics;
using Tcm.Gateway.Certificates;
using Tcm.Gateway.KeepAlive;
using Tcm.Gateway.Relay;
using Tcm.Hosting.Diagnostics;
using Tcm.Protocol;

namespace Tcm.Gateway.Diagnostics;

/// <summary>
/// The gateway's "performance counters": <c>Meter("Tcm.Gateway")</c> for exporters (scraped at <c>/metrics</c>, exported over
/// OTLP), and the same figures as plain counters for the status endpoint. Per-second rates are counted as events happen and
/// computed when read (<see cref="LastSecondRate"/>). The relay records tunnels, bytes and rejections through the methods below.
/// Rejections (for every code the gateway answers with) and handshake failures are observed from their totals, so a scrape
/// shows them at 0 before the first one: an operator's <c>rate()</c> and alerts have a series from the start. So are the bytes
/// relayed and the keep-alive outcomes, for a second reason: they move on every ping of every idle tunnel, and a total added
/// with <see cref="Interlocked"/> costs the relay nothing beside the exporters' per-measurement aggregation (1-2% of an idle
/// gateway's CPU in the profile, docs/benchmarks.md).
/// </summary>
internal sealed class GatewayMetrics : ServerMeter
{
    public const string MeterName = "Tcm.Gateway";

    /// <summary>Every code the relay refuses with (<see cref="Relay.RelayEndpoint.RefuseAsync"/>), published at 0 until counted.</summary>
    private static readonly string[] RejectionCodes =
    [
        CloseReasons.BadCertificate, CloseReasons.CertificateBlocked, CloseReasons.CertificateHeld,
        CloseReasons.MalformedRelayRequest, CloseReasons.BackendNotConfigured, CloseReasons.BackendUnavailable,
    ];

    /// <summary>The tag of each <see cref="KeepAliveOutcome"/>, in its order.</summary>
    private static readonly string[] KeepAliveOutcomes = ["answered", "forwarded", "timed-out"];

    private readonly CountedCounter _connects;
    private readonly long[] _keepAlive = new long[KeepAliveOutcomes.Length];
    private readonly UpDownCounter<long> _tunnels;
    private readonly Counter<long> _relayErrors;
    private readonly CountsByKey _rejectionsByCode = new();
    private readonly LastSecondRate _connectRate;
    private readonly LastSecondRate _rejectionRate;
    private long _agentsConnected;
    private long _handshakeFailures;
    private long _bytesToBackends;
    private long _bytesToAgents;

    public GatewayMetrics(IMeterFactory meters, CertificateApprovals approvals, TimeProvider time)
        : base(meters, MeterName)
    {
        _connectRate = new(time);
        _rejectionRate = new(time);
        Meter.CreateObservableUpDownCounter("tcm.gateway.agents.connected", () => Interlocked.Read(ref _agentsConnected), "{connection}", "Agent TLS connections open");
        _tunnels = Meter.CreateUpDownCounter<long>("tcm.gateway.tunnels", "{tunnel}", "WebSocket tunnels open, by backend");
        _connects = Counter("tcm.gateway.connects", "{connection}", "Agent TLS connections accepted");
        Meter.CreateObservableCounter("tcm.gateway.rejections", ObserveRejections, "{request}", "Requests refused, by code");
        Meter.CreateObservableCounter("tcm.gateway.handshake_failures", () => HandshakeFailures, "{connection}", "TLS handshakes that failed");
        _relayErrors = Meter.CreateCounter<long>("tcm.gateway.relay.errors", "{exchange}", "Relayed requests and tunnels that ended in an error, by kind");
        // why: one instrument for both directions (tagged), and a total per direction for the status page.
        Meter.CreateObservableCounter("tcm.gateway.bytes", () => new[]
        {
            new Measurement<long>(BytesToBackends, new KeyValuePair<string, object?>("direction", "to-backend")),
            new Measurement<long>(BytesToAgents, new KeyValuePair<string, object?>("direction", "to-agent")),
        }, "By", "Bytes relayed, by direction");
        Meter.CreateObservableCounter("tcm.gateway.keepalive", ObserveKeepAlive, "{ping}", "Agents' pings the gateway answered or forwarded, and tunnels it ended for the agent's silence, by outcome");
        CountKeepAlive = KeepAlive;
        Meter.CreateObservableGauge("tcm.gateway.certificates", () => new[]
        {
            new Measurement<int>(approvals.HeldCount, new KeyValuePair<string, object?>("state", "held")),
            new Measurement<int>(approvals.ApprovedCount, new KeyValuePair<string, object?>("state", "approved")),
            new Measurement<int>(approvals.BlockedCount, new KeyValuePair<string, object?>("state", "blocked")),
        }, "{certificate}", "Certificates held, approved and blocked");
    }

    /// <summary><see cref="KeepAlive"/> as one delegate, shared by every tunnel.</summary>
    public Action<KeepAliveOutcome> CountKeepAlive { get; }

    /// <summary>Agents' pings answered by the gateway so far.</summary>
    public long PingsAnswered => Interlocked.Read(ref _keepAlive[(int)KeepAliveOutcome.Answered]);

    /// <summary>Agents' pings forwarded to their backends so far.</summary>
    public long PingsForwarded => Interlocked.Read(ref _keepAlive[(int)KeepAliveOutcome.Forwarded]);

    /// <summary>Tunnels ended because their agent was silent for two of its keep-alive intervals.</summary>
    public long KeepAliveTimeouts => Interlocked.Read(ref _keepAlive[(int)KeepAliveOutcome.TimedOut]);

    public long AgentsConnected => Interlocked.Read(ref _agentsConnected);

    public long ConnectsTotal => _connects.Total;

    public long RejectionsTotal => _rejectionsByCode.Sum;

    public long HandshakeFailures => Interlocked.Read(ref _handshakeFailures);

    public long BytesToBackends => Interlocked.Read(ref _bytesToBackends);

    public long BytesToAgents => Interlocked.Read(ref _bytesToAgents);

    /// <summary>Connects in the last whole second.</summary>
    public double ConnectsPerSecond => _connectRate.PerSecond;

    /// <summary>Rejections in the last whole second.</summary>
    public double RejectionsPerSecond => _rejectionRate.PerSecond;

    public IReadOnlyDictionary<string, long> RejectionsByCode => _rejectionsByCode.Counts;

    public void Connected()
    {
        Interlocked.Increment(ref _agentsConnected);
        _connects.Add();
        _connectRate.Add();
    }

    public void Disconnected() => Interlocked.Decrement(ref _agentsConnected);

    public void HandshakeFailed() => Interlocked.Increment(ref _handshakeFailures);

    public void Rejected(string code)
    {
        _rejectionsByCode.Increment(code);
        _rejectionRate.Add();
    }

    /// <summary>Counts a relayed exchange that ended in <paramref name="error"/> (YARP's forwarder error, in the gateway's terms).</summary>
    public void RelayFailed(RelayError error) => _relayErrors.Add(1, new KeyValuePair<string, object?>("kind", error.ToCode()));

    /// <summary>Counts what became of an agent's ping, or a tunnel ended for its agent's silence.</summary>
    public void KeepAlive(KeepAliveOutcome outcome) => Interlocked.Increment(ref _keepAlive[(int)outcome]);

    public void TunnelOpened(string backend) => _tunnels.Add(1, new KeyValuePair<string, object?>("backend", backend));

    public void TunnelClosed(string backend) => _tunnels.Add(-1, new KeyValuePair<string, object?>("backend", backend));

    public void ToBackend(int bytes) => Interlocked.Add(ref _bytesToBackends, bytes);

    public void ToAgent(int bytes) => Interlocked.Add(ref _bytesToAgents, bytes);

    private IEnumerable<Measurement<long>> ObserveRejections()
    {
        var counts = _rejectionsByCode.Counts;
        foreach (var code in RejectionCodes)
        {
            yield return Rejections(code, counts.GetValueOrDefault(code));
        }

        foreach (var (code, count) in counts)
        {
            if (Array.IndexOf(RejectionCodes, code) < 0)
            {
                yield return Rejections(code, count);
            }
        }
    }

    private IEnumerable<Measurement<long>> ObserveKeepAlive()
    {
        for (var i = 0; i < KeepAliveOutcomes.Length; i++)
        {
            yield return new Measurement<long>(Interlocked.Read(ref _keepAlive[i]), new KeyValuePair<string, object?>("outcome", KeepAliveOutcomes[i]));
        }
    }

    private static Measurement<long> Rejections(string code, long count) => new(count, new KeyValuePair<string, object?>("code", code));
}
