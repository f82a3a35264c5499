namespace Tcm.Protocol;

/// <summary>A site server as <c>GET /tcm/admin/site-servers</c> lists it (never its token).</summary>
public sealed record SiteServerInfo
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required SiteServerKind Kind { get; init; }
    /// <summary>Whether it has registered (used its token and got its certificate).</summary>
    public bool Registered { get; init; }
    /// <summary>host:port agents dial, as it registered or last reported it.</summary>
    public string? Address { get; init; }
    public IReadOnlyList<string>? HostNames { get; init; }
    public string? Site { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RegisteredAt { get; init; }
    /// <summary>SHA-256 thumbprint (hex) of the certificate it was issued.</summary>
    public string? CertificateThumbprint { get; init; }
}
