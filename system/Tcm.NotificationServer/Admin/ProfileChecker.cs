using System.Globalization;
using Tcm.NotificationServer.SiteServers;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// Says what in a communication profile does not match the servers this Notification Server knows. Agents fail silently when
/// the profile, the gateway and the firewall disagree on a port (443 in the profile, the gateway on 4726) or name a gateway
/// nobody runs; this finds that when the profile is saved instead of days later. Problems are advice, not refusals: a
/// firewall or a load balancer in front may forward what this server cannot see.
/// </summary>
internal static partial class ProfileChecker
{
    /// <summary>The header that carries each problem on a profile's save answer.</summary>
    public const string ProblemHeader = "X-Tcm-Problem";

    /// <summary>The problems of <paramref name="profile"/> against this running server's gateways and address.</summary>
    public static IReadOnlyList<ProfileProblem> Check(CommunicationProfile profile, IServiceProvider services)
    {
        var addresses = services.GetRequiredService<ServerAddresses>();
        var sites = services.GetRequiredService<SiteServerDirectory>().All.Select(s => s.ToInfo()).ToList();
        return Check(profile, sites, addresses.PublicHostName, addresses.Port);
    }

    /// <summary><c>field: detail</c>, with anything outside printable ASCII replaced (header values are ASCII).</summary>
    public static string HeaderValue(ProfileProblem problem) =>
        string.Create(problem.Field.Length + 2 + problem.Detail.Length, problem, static (span, p) =>
        {
            $"{p.Field}: {p.Detail}".AsSpan().CopyTo(span);
            foreach (ref var c in span)
            {
                if (c is < ' ' or > '~')
                {
                    c = '?';
                }
            }
        });

    /// <summary>
    /// The problems of <paramref name="profile"/> against the registered <paramref name="siteServers"/> and this server's own
    /// published <paramref name="serverHost"/>:<paramref name="serverPort"/>.
    /// </summary>
    public static IReadOnlyList<ProfileProblem> Check(CommunicationProfile profile, IReadOnlyList<SiteServerInfo> siteServers, string serverHost, int serverPort)
    {
        List<ProfileProblem> problems = [];
        for (var i = 0; i < profile.ServerHosts.Count; i++)
        {
            if (Split(profile.ServerHosts[i]) is (var host, var port) && SameHost(host, serverHost) && port != serverPort)
            {
                problems.Add(new($"serverHosts[{i}]",
                    $"'{profile.ServerHosts[i]}' names this server on port {port}, but it listens on {serverHost}:{serverPort}: agents will find nothing on port {port} unless something forwards it"));
            }
        }

        if (profile.Cem is { Enabled: true, GatewayAddress: { } address } && Split(address) is (var gatewayHost, var gatewayPort))
        {
            var gateways = siteServers.Where(s => s is { Kind: SiteServerKind.Gateway, Registered: true, Address: not null }).ToList();
            if (CheckGateway(address, gatewayHost, gatewayPort, gateways) is { } problem)
            {
                problems.Add(new("cem.gatewayAddress", problem));
            }
        }

        return problems;
    }

    private static string? CheckGateway(string address, string host, int port, IReadOnlyList<SiteServerInfo> gateways)
    {
        if (gateways.Count == 0)
        {
            return $"no CEM gateway has registered with this server, so nothing answers agents at {address} yet (register one: POST /tcm/admin/site-servers with kind gateway, then start it with that token)";
        }

        var named = gateways.Where(g => Names(g).Any(n => SameHost(n, host))).ToList();
        if (named.Count == 0)
        {
            return $"'{host}' is not a name of any registered gateway; registered: {Describe(gateways)}";
        }

        if (named.Any(g => Split(g.Address!) is (_, var registeredPort) && registeredPort == port))
        {
            return null;
        }

        return $"port {port} does not match: {Describe(named)}; agents will dial {address} and find no gateway there unless a firewall forwards port {port} to it";
    }

    private static IEnumerable<string> Names(SiteServerInfo gateway) =>
        (gateway.HostNames ?? []).Append(Split(gateway.Address!) is (var host, _) ? host : gateway.Address!);

    private static string Describe(IEnumerable<SiteServerInfo> gateways) =>
        string.Join("; ", gateways.Select(g => $"gateway '{g.Name}' listens on {g.Address}"));

    private static bool SameHost(string a, string b) => string.Equals(a.Trim('[', ']'), b.Trim('[', ']'), StringComparison.OrdinalIgnoreCase);

    private static (string Host, int Port)? Split(string hostPort)
    {
        var colon = hostPort.LastIndexOf(':');
        return colon > 0 && int.TryParse(hostPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? (hostPort[..colon], port)
            : null;
    }

    internal static partial class Log
    {
        [LoggerMessage(EventId = 610, Level = LogLevel.Warning, Message = "Communication profile '{ProfileId}' saved with a problem: {Field}: {Detail}")]
        public static partial void ProfileProblem(ILogger logger, string profileId, string field, string detail);
    }
}
