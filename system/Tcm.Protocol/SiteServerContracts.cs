using System.Text.Json.Serialization;

namespace Tcm.Protocol;

/// <summary>Kinds of site server that register with a Notification Server.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SiteServerKind>))]
public enum SiteServerKind
{
    /// <summary>A Task Server: the Client Task Agent's second persistent connection.</summary>
    [JsonStringEnumMemberName("task-server")] TaskServer,
    /// <summary>A CEM Internet Gateway: relays agents on the internet to configured backends.</summary>
    [JsonStringEnumMemberName("gateway")] Gateway,
}

/// <summary>Admin to NS, <c>POST /tcm/admin/site-servers</c>: allow a site server to register.</summary>
public sealed record CreateSiteServerRequest
{
    public required string Name { get; init; }
    public required SiteServerKind Kind { get; init; }
}

/// <summary>NS to admin: the one-time token the site server registers with (shown once; stored hashed).</summary>
public sealed record SiteServerCreated(string Id, string Name, SiteServerKind Kind, string RegistrationToken);

/// <summary>
/// Site server to NS, <see cref="SiteServerPaths.Register"/> (no client certificate): the site server presents its token and a CSR;
/// the NS signs ONE certificate for it, subject <c>CN={name}, OU={kind}</c> (kind as in <see cref="SiteServerKind"/>'s JSON),
/// EKUs serverAuth + clientAuth, SANs = <see cref="HostNames"/>. The site server uses it both as its TLS server certificate
/// (agents trust it through the NS CA they already have) and as its client certificate towards the NS.
/// </summary>
public sealed record SiteServerRegisterRequest
{
    public required string RegistrationToken { get; init; }
    /// <summary>DNS names and IP addresses agents use to reach the site server (SANs of its certificate).</summary>
    public required IReadOnlyList<string> HostNames { get; init; }
    /// <summary>The address agents should dial (host:port), as the NS will publish it in policies (Task Servers).</summary>
    public required string Address { get; init; }
    public required string CertificateSigningRequestPem { get; init; }
    /// <summary>Task Servers: how many agents it accepts (default 5,000, as the product).</summary>
    public int? MaxAgents { get; init; }
    public string? Site { get; init; }
}

/// <summary>NS to site server: its certificate and the CA to validate agents (and the NS) with.</summary>
public sealed record SiteServerRegisterResponse
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required SiteServerKind Kind { get; init; }
    public required string CertificatePem { get; init; }
    public required string CaCertificatePem { get; init; }
}

/// <summary>Paths and headers of site-server traffic.</summary>
public static class SiteServerPaths
{
    /// <summary>POST <see cref="SiteServerRegisterRequest"/>.</summary>
    public const string Register = "/tcm/site/register";

    /// <summary>Root of the NS endpoints only site servers may call (client certificate with OU = kind).</summary>
    public const string Root = "/tcm/site";

    /// <summary>
    /// Gateway to backend: the agent's client certificate (base64 DER) that the gateway validated on its TLS listener.
    /// A backend honours it ONLY when the TLS client certificate of the request is a gateway site-server certificate issued by
    /// its CA; then the request is the agent's, reached through CEM. From anyone else the header is refused (401 bad-certificate).
    /// </summary>
    public const string ForwardedAgentCertificateHeader = "X-Tcm-Agent-Certificate";

    /// <summary>Gateway to backend: the gateway's name, for the agent's route ("cem via gw1").</summary>
    public const string ViaHeader = "X-Tcm-Via";
}
