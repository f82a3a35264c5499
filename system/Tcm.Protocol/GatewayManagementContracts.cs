namespace Tcm.Protocol;

/// <summary>
/// Paths of a CEM gateway's management traffic with a Notification Server it is registered with (under
/// <see cref="SiteServerPaths.Root"/>, the gateway's site-server client certificate required). The gateway reports its counters
/// and the certificates it holds when they change and at an interval, and keeps a long poll open on <see cref="Decisions"/>, so an
/// administrator's approve or block reaches it within a round trip.
/// </summary>
public static class GatewayManagementPaths
{
    /// <summary>POST <see cref="GatewayReport"/>: the gateway's counters and held certificates; 204.</summary>
    public const string Report = "/tcm/site/gateway/report";

    /// <summary>POST <see cref="GatewayDecisionPoll"/> <c>?wait=seconds</c> (long poll, at most 60): <see cref="GatewayDecisions"/>.</summary>
    public const string Decisions = "/tcm/site/gateway/decisions";
}

/// <summary>Gateway to NS: what the gateway's status page shows, and the certificates it holds for approval.</summary>
public sealed record GatewayReport
{
    /// <summary>The address agents dial (host:port), as the gateway's listener is bound.</summary>
    public string? Address { get; init; }
    /// <summary>When the gateway started, and when it made this report (its clock).</summary>
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset At { get; init; }
    /// <summary>How often the gateway reports when nothing changes, in seconds: a report older than a few of these is stale.</summary>
    public int IntervalSeconds { get; init; }
    public GatewayCounters Counters { get; set; } = new();
    /// <summary>The certificates held for approval, oldest first, at most <see cref="MaxHeld"/> (<see cref="GatewayTotals.CertificatesHeld"/> counts them all).</summary>
    public IReadOnlyList<GatewayHeldCertificate> Held { get; set; } = [];

    /// <summary>The most held certificates one report lists.</summary>
    public const int MaxHeld = 500;
}

/// <summary>
/// The counters a gateway keeps, shared by its own <c>GET /gateway/status</c> (which adds its process figures) and the report it
/// sends its Notification Servers (<see cref="GatewayCounters"/>): one list, so the two cannot drift apart.
/// </summary>
public record GatewayTotals
{
    /// <summary>Agent TLS connections open now (one per agent: HTTP/2 carries its NS and TS channels together).</summary>
    public long AgentsConnected { get; init; }
    /// <summary>WebSocket tunnels open now, all backends.</summary>
    public long TunnelsOpen { get; init; }
    /// <summary>Connects and rejections: since the gateway started, and in the last whole second.</summary>
    public long ConnectsTotal { get; init; }
    public double ConnectsPerSecond { get; init; }
    public long RejectionsTotal { get; init; }
    public double RejectionsPerSecond { get; init; }
    public long HandshakeFailures { get; init; }
    public long BytesToBackends { get; init; }
    public long BytesToAgents { get; init; }
    public int CertificatesHeld { get; init; }
    public int CertificatesApproved { get; init; }
    public int CertificatesBlocked { get; init; }
}

/// <summary>A gateway's counters as it reports them to a Notification Server, with its backends.</summary>
public sealed record GatewayCounters : GatewayTotals
{
    /// <summary>No counters yet (JSON).</summary>
    public GatewayCounters()
    {
    }

    /// <summary>A copy of <paramref name="totals"/> (the gateway's status, for example).</summary>
    public GatewayCounters(GatewayTotals totals)
        : base(totals)
    {
    }

    public IReadOnlyList<GatewayBackendCounters> Backends { get; set; } = [];
}

/// <summary>One backend of a gateway: its name, address, kind (<c>NotificationServer</c> or <c>TaskServer</c>) and tunnels.</summary>
public sealed record GatewayBackendCounters(string Name, string Address, string Kind, long TunnelsOpen, long TunnelsTotal, long Requests);

/// <summary>A client certificate a gateway holds until an administrator approves or blocks it (SHA-256 thumbprint, upper-case hex).</summary>
public sealed record GatewayHeldCertificate(string Thumbprint, string? Subject, string? Issuer, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, int Attempts);

/// <summary>Gateway to NS: the decisions it has applied (and persisted) since its last poll; the NS stops offering them.</summary>
public sealed record GatewayDecisionPoll
{
    public IReadOnlyList<string> Applied { get; set; } = [];
}

/// <summary>NS to gateway: the administrator's decisions it has not applied yet.</summary>
public sealed record GatewayDecisions
{
    public IReadOnlyList<GatewayDecision> Decisions { get; set; } = [];
}

/// <summary>One administrator's decision on a certificate, by id (the gateway acknowledges it in its next poll).</summary>
public sealed record GatewayDecision(string Id, string Thumbprint, GatewayCertificateAction Action, DateTimeOffset DecidedAt);

/// <summary>What an administrator decided about a certificate.</summary>
public enum GatewayCertificateAction
{
    /// <summary>The certificate may use the relay.</summary>
    Approve,

    /// <summary>The certificate is refused (<c>certificate-blocked</c>).</summary>
    Block,
}
