using Tcm.Protocol.Admin;

namespace Tcm.Agent.Status;

/// <summary>
/// What the agent knows about one connection at one moment, which <see cref="NetworkStatusMapper"/> turns into the panel: what it
/// observed, in the panel's own type (the route's mode in <see cref="NetworkStatus.Mode"/>, its address, TLS, bytes, since when it is
/// connected, the route's reason), and the three facts the panel's words depend on.
/// </summary>
/// <param name="Observed">The observed values; the wording (availability, CEM state, transport) is left to the mapper.</param>
/// <param name="Reachable">Whether the last contact with the server succeeded.</param>
/// <param name="Persistent">Whether the channel is up.</param>
/// <param name="HttpReason">Why the agent is on HTTP (<c>code: detail</c>), when it is.</param>
internal sealed record ConnectionFacts(NetworkStatus Observed, bool Reachable, bool Persistent, string? HttpReason);

/// <summary>Maps <see cref="ConnectionFacts"/> to the agent's Network Status panel in the product's words.</summary>
internal static class NetworkStatusMapper
{
    public const string AvailableDirectly = "Available directly";
    public const string AvailableViaGateway = "Available via internet gateway";
    public const string NotAvailable = "Not available";
    public const string CemActive = "Cloud-enabled Management mode is active";
    public const string CemNotActive = "Cloud-enabled Management mode is not active";

    /// <summary>The agent downloads packages from codebases only (see <c>CodebaseSelector</c>), never from its peers.</summary>
    public const string PeerDownloadingDisabled = "Disabled";

    /// <summary>The agent throttles none of its traffic: no bandwidth limit applies to it.</summary>
    public const string NetworkUsageUnrestricted = "Unrestricted";

    public static NetworkStatus Map(ConnectionFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var observed = facts.Observed;
        var mode = facts.Reachable || facts.Persistent ? observed.Mode : ConnectionMode.Offline;
        return observed with
        {
            Mode = mode,
            Availability = mode switch
            {
                ConnectionMode.Direct => AvailableDirectly,
                ConnectionMode.Cem => AvailableViaGateway,
                _ => NotAvailable,
            },
            CemState = observed.Mode == ConnectionMode.Cem ? CemActive : CemNotActive,
            Transport = facts.Persistent ? TransportKind.Persistent : TransportKind.Http,
            TransportDetail = facts.Persistent ? "Persistent" : facts.HttpReason is { } reason ? $"HTTP ({reason})" : "HTTP",
            ConnectedSince = facts.Persistent ? observed.ConnectedSince : null,
        };
    }

    /// <summary>The status without its ever-growing byte counts: what "changed" means for posting it with events.</summary>
    public static NetworkStatus WithoutCounters(NetworkStatus status) => status with { BytesSent = 0, BytesReceived = 0 };
}
