using Tcm.Protocol;

namespace Tcm.Agent.Download;

/// <summary>One way to fetch a package: a codebase, the address the agent calls for it, and why it is in this place of the order.</summary>
/// <param name="Codebase">The policy's codebase.</param>
/// <param name="Url">For HTTP and HTTPS: the URL called (the gateway's relay URL when <paramref name="ThroughGateway"/>); null for UNC.</param>
/// <param name="ThroughGateway">Whether the request goes to the CEM gateway (which relays it), not to the codebase's host.</param>
/// <param name="Reason">Why the codebase is used, for the agent's log: its nearness, or the CEM preference.</param>
internal sealed record DownloadCandidate(Codebase Codebase, Uri? Url, bool ThroughGateway, string Reason);

/// <summary>
/// Download codebase selection, per the support article's fix #2. The agent cannot see routes (Windows routing decides the adapter),
/// so the rule is about whom it calls:
/// <list type="bullet">
/// <item>While CEM is the preferred method (the routing decision is CEM): only HTTPS codebases, each fetched through the CEM gateway's
/// relay (<c>https://{gateway}/relay/{host:port}{path}</c>; a codebase that already is a relay URL on that gateway is used as it is).
/// UNC and HTTP codebases are never used, and no corporate codebase is called directly, so no download leaves over a VPN adapter
/// (unless the gateway itself is routed through the VPN, which the article's point 4 says no agent setting can avoid). Sites do
/// not matter: the gateway is the only host called.</item>
/// <item>Otherwise (office, or VPN without a CEM preference): the nearest codebase first, called directly. Nearness is the
/// codebase's <see cref="Codebase.Site"/> against the agent's <c>site</c> attribute (case-insensitive): codebases at the agent's
/// site, then those without a site (they serve every site), then those at other sites. An agent without a site has no own-site
/// group: codebases without a site come first. Within a group UNC, then HTTP, then HTTPS.</item>
/// </list>
/// Within a kind, the policy's order is kept.
/// </summary>
internal static class CodebaseSelector
{
    private static readonly CodebaseKind[] s_kinds = [CodebaseKind.Unc, CodebaseKind.Http, CodebaseKind.Https];

    /// <summary>How near a codebase is to the agent; the order of the groups.</summary>
    private enum Nearness
    {
        AgentSite,
        EverySite,
        OtherSite,
    }

    /// <summary>
    /// The codebases the agent uses, best first. <paramref name="cemGateway"/> is the gateway's <c>host:port</c> while CEM is the
    /// preferred method, else null; <paramref name="agentSite"/> is the agent's <c>site</c> attribute (null or blank: none).
    /// <paramref name="skipped"/> says which codebases are not used, and why.
    /// </summary>
    public static IReadOnlyList<DownloadCandidate> Order(IReadOnlyList<Codebase> codebases, string? cemGateway, string? agentSite, out IReadOnlyList<string> skipped)
    {
        ArgumentNullException.ThrowIfNull(codebases);
        var notUsed = new List<string>();
        var chosen = new List<DownloadCandidate>();
        if (cemGateway is not null)
        {
            foreach (var codebase in codebases)
            {
                if (codebase.Kind != CodebaseKind.Https || !Uri.TryCreate(codebase.Location, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps)
                {
                    notUsed.Add($"{codebase.Kind} codebase '{codebase.Location}' not used: CEM is the preferred connection method, only HTTPS codebases through the gateway are used");
                    continue;
                }

                var authority = $"{url.Host}:{url.Port}";
                var relayed = string.Equals(authority, cemGateway, StringComparison.OrdinalIgnoreCase) && url.AbsolutePath.StartsWith(GatewayPaths.Relay + "/", StringComparison.Ordinal)
                    ? url
                    : new Uri(GatewayPaths.RelayBase(cemGateway, authority) + url.PathAndQuery);
                chosen.Add(new DownloadCandidate(codebase, relayed, ThroughGateway: true,
                    "CEM is the preferred connection method: HTTPS codebases through the gateway only, whatever their site"));
            }
        }
        else
        {
            var site = string.IsNullOrWhiteSpace(agentSite) ? null : agentSite.Trim();
            foreach (var nearness in Enum.GetValues<Nearness>())
            {
                foreach (var kind in s_kinds)
                {
                    foreach (var codebase in codebases.Where(c => c.Kind == kind && NearnessOf(c, site) == nearness))
                    {
                        var reason = Describe(codebase, nearness, site);
                        if (kind == CodebaseKind.Unc)
                        {
                            chosen.Add(new DownloadCandidate(codebase, null, ThroughGateway: false, reason));
                        }
                        else if (Uri.TryCreate(codebase.Location, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
                        {
                            chosen.Add(new DownloadCandidate(codebase, url, ThroughGateway: false, reason));
                        }
                        else
                        {
                            notUsed.Add($"{kind} codebase '{codebase.Location}' is not an absolute HTTP(S) URL");
                        }
                    }
                }
            }
        }

        skipped = notUsed;
        return chosen;
    }

    private static Nearness NearnessOf(Codebase codebase, string? agentSite) =>
        string.IsNullOrWhiteSpace(codebase.Site) ? Nearness.EverySite
        : agentSite is not null && string.Equals(codebase.Site.Trim(), agentSite, StringComparison.OrdinalIgnoreCase) ? Nearness.AgentSite
        : Nearness.OtherSite;

    private static string Describe(Codebase codebase, Nearness nearness, string? agentSite) => nearness switch
    {
        Nearness.AgentSite => $"nearest: at the agent's site '{agentSite}'",
        Nearness.EverySite => agentSite is null
            ? "no site (serves every site); the agent has no site"
            : $"no site (serves every site), after the codebases at the agent's site '{agentSite}'",
        _ => agentSite is null
            ? $"at site '{codebase.Site}', after the codebases without a site; the agent has no site"
            : $"at site '{codebase.Site}', not the agent's site '{agentSite}': after the codebases at its site and those without a site",
    };
}

/// <summary>
/// A UNC path as the agent models it: <c>\\host[@port]\share\path</c>, port 445 by default. The "SMB" of this lab is a minimal
/// line protocol over plain TCP (<c>TCM-UNC/1</c>): the agent sends <c>READ {share}\{path}\n</c> (UTF-8); the server answers
/// <c>OK {length}\n</c> and exactly that many bytes, or <c>ERR {reason}\n</c>, and closes.
/// </summary>
internal readonly record struct UncPath(string Host, int Port, string SharePath)
{
    public const int DefaultPort = 445;

    public static bool TryParse(string location, out UncPath path)
    {
        path = default;
        if (!location.StartsWith(@"\\", StringComparison.Ordinal))
        {
            return false;
        }

        var rest = location[2..];
        var slash = rest.IndexOf('\\', StringComparison.Ordinal);
        if (slash <= 0 || slash == rest.Length - 1)
        {
            return false;
        }

        var server = rest[..slash];
        var port = DefaultPort;
        var at = server.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            if (!int.TryParse(server.AsSpan(at + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                return false;
            }

            server = server[..at];
        }

        if (server.Length == 0)
        {
            return false;
        }

        path = new UncPath(server, port, rest[(slash + 1)..]);
        return true;
    }
}
