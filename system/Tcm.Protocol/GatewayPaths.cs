namespace Tcm.Protocol;

/// <summary>
/// Addressing through the CEM Internet Gateway (<c>docs/protocol.md</c>, "Through the CEM gateway"): an agent in CEM mode
/// calls <c>https://{gateway}:{port}/relay/{backendHost}:{backendPort}{originalPathAndQuery}</c> for HTTP and the channel alike.
/// </summary>
public static class GatewayPaths
{
    /// <summary>Prefix of every relayed request; the next segment is the backend's <c>host:port</c>.</summary>
    public const string Relay = "/relay";

    /// <summary>Root of the gateway's own endpoints (status, status page, certificate approvals); admin key required.</summary>
    public const string Root = "/gateway";

    /// <summary>GET the gateway's counters as JSON.</summary>
    public const string Status = "/gateway/status";

    /// <summary>GET the gateway's status page (self-contained HTML).</summary>
    public const string StatusPage = "/gateway/status/page";

    /// <summary>GET held, approved and blocked certificates; POST <c>{thumbprint}/approve</c> or <c>{thumbprint}/block</c>.</summary>
    public const string Certificates = "/gateway/admin/certificates";

    /// <summary>
    /// The base URL an agent uses for <paramref name="backendHostAndPort"/> through <paramref name="gatewayHostAndPort"/>:
    /// <c>https://{gateway}/relay/{backend}</c>; append the usual paths (<see cref="TcmPaths"/>) to it.
    /// </summary>
    public static Uri RelayBase(string gatewayHostAndPort, string backendHostAndPort) =>
        new($"https://{gatewayHostAndPort}{Relay}/{backendHostAndPort}");
}

/// <summary>Headers the CEM gateway adds to what it answers an agent (<c>docs/protocol.md</c>, section 12).</summary>
public static class GatewayHeaders
{
    /// <summary>
    /// On a relayed answer: the TLS of the gateway's own connection to the backend, <c>protocol; cipher suite</c>
    /// (<c>TLS 1.3; TLS_AES_256_GCM_SHA384</c>), which the agent shows as the second leg of its Network Status.
    /// </summary>
    public const string BackendTls = "X-Tcm-Backend-Tls";

    /// <summary>
    /// On a refusal: its detail (the body's <c>detail</c>), for an agent that cannot read the body of a refused WebSocket upgrade,
    /// e.g. <c>backend-not-configured</c>'s list of configured backends.
    /// </summary>
    public const string RefusalDetail = "X-Tcm-Refusal-Detail";
}
