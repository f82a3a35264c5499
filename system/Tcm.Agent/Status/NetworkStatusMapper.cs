using Tcm.Protocol.Admin;

namespace Tcm.Agent.Status;

/// <summary>What the agent knows about its connection at one moment; <see cref="NetworkStatusMapper"/> turns it into the panel.</summary>
internal sealed record ConnectionFacts
{
    public string? ServerAddress { get; init; }
    public ConnectionMode RouteMode { get; init; } = ConnectionMode.Direct;
    public string? RouteReason { get; init; }
    /// <summary>Whether the last contact with the server succeeded.</summary>
    public bool Reachable { get; init; }
    public bool Persistent { get; init; }
    /// <summary>Why the agent is on HTTP (<c>code: detail</c>), when it is.</summary>
    public string? HttpReason { get; init; }
    public string? TlsProtocol { get; init; }
    public string? CipherSuite { get; init; }
    /// <summary>The agent-to-gateway leg's TLS, in CEM mode (the gateway-to-backend leg is not visible to the agent).</summary>
    public string? GatewayTlsProtocol { get; init; }
    public string? GatewayCipherSuite { get; init; }
    public long BytesSent { get; init; }
    public long BytesReceived { get; init; }
    public DateTimeOffset? ConnectedSince { get; init; }
}

/// <summary>Maps <see cref="ConnectionFacts"/> to the agent's Network Status panel in the product's words.</summary>
internal static class NetworkStatusMapper
{
    public const string AvailableDirectly = "Available directly";
    public const string AvailableViaGateway = "Available via internet gateway";
    public const string NotAvailable = "Not available";
    public const string CemActive = "Cloud-enabled Management mode is active";
    public const string CemNotActive = "Cloud-enabled Management mode is not active";

    public static NetworkStatus Map(ConnectionFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var reachable = facts.Reachable || facts.Persistent;
        var mode = reachable ? facts.RouteMode : ConnectionMode.Offline;
        return new NetworkStatus
        {
            ServerAddress = facts.ServerAddress,
            Mode = mode,
            Availability = mode switch
            {
                ConnectionMode.Direct => AvailableDirectly,
                ConnectionMode.Cem => AvailableViaGateway,
                _ => NotAvailable,
            },
            CemState = facts.RouteMode == ConnectionMode.Cem ? CemActive : CemNotActive,
            Transport = facts.Persistent ? TransportKind.Persistent : TransportKind.Http,
            TransportDetail = facts.Persistent ? "Persistent" : facts.HttpReason is { } reason ? $"HTTP ({reason})" : "HTTP",
            TlsProtocol = facts.TlsProtocol,
            CipherSuite = facts.CipherSuite,
            GatewayTlsProtocol = facts.GatewayTlsProtocol,
            GatewayCipherSuite = facts.GatewayCipherSuite,
            BytesSent = facts.BytesSent,
            BytesReceived = facts.BytesReceived,
            ConnectedSince = facts.Persistent ? facts.ConnectedSince : null,
            RouteReason = facts.RouteReason,
        };
    }

    /// <summary>The status without its ever-growing byte counts: what "changed" means for posting it with events.</summary>
    public static NetworkStatus WithoutCounters(NetworkStatus status) => status with { BytesSent = 0, BytesReceived = 0 };
}
