using System.Security.Cryptography.X509Certificates;
using Tcm.Hosting.Certificates;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Certificates;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.SiteServers;

namespace Tcm.NotificationServer.AgentEndpoints;

/// <summary>
/// Identifies the agent behind a request by its TLS client certificate, or, for a request relayed by a CEM gateway, by the
/// certificate the gateway forwards in <see cref="SiteServerPaths.ForwardedAgentCertificateHeader"/>. The header is honoured
/// ONLY when the TLS client certificate is a registered gateway site-server certificate of this NS's CA
/// (<see cref="SiteServerAuthenticator"/>); the forwarded certificate is then validated exactly like a direct one, and the
/// agent's route becomes <c>cem via {gateway}</c>. From anyone else the header is refused: 401 <c>bad-certificate</c>.
/// <para>
/// An agent this node does not know may have registered on another node sharing the store (<see cref="INodeSignal.Shared"/>): it is read
/// from the store on first sight rather than refused, since its first call may come before the other node's signal.
/// </para>
/// </summary>
internal sealed class AgentAuthenticator(CertificateAuthority authority, AgentDirectory directory, SiteServerAuthenticator siteServers, INodeSignal nodes)
{
    /// <summary>The agent, or the refusal: 401 <c>bad-certificate</c> or 403 <c>unknown-agent</c>.</summary>
    public AgentAuthentication Authenticate(HttpContext context)
    {
        var certificate = context.Connection.ClientCertificate;
        string? gateway = null;
        X509Certificate2? forwarded = null;
        try
        {
            if (context.Request.Headers.TryGetValue(SiteServerPaths.ForwardedAgentCertificateHeader, out var header))
            {
                if (siteServers.Recognize(certificate) is not { Kind: SiteServerKind.Gateway } site)
                {
                    return Refuse($"the {SiteServerPaths.ForwardedAgentCertificateHeader} header is honoured only from a CEM gateway registered with this server");
                }

                forwarded = CertificateTrust.FromBase64Der(header.ToString());
                if (forwarded is null)
                {
                    return Refuse($"the {SiteServerPaths.ForwardedAgentCertificateHeader} header from gateway '{site.Name}' is not a base64 DER certificate");
                }

                certificate = forwarded;
                gateway = site.Name;
            }

            var check = authority.Validate(certificate);
            if (!check.IsValid)
            {
                return Refuse(gateway is null ? check.Reason! : $"{check.Reason} (forwarded by gateway '{gateway}')");
            }

            if (!directory.TryGet(check.AgentId!, orFromStore: nodes.Shared, out var agent))
            {
                return new(null, AgentApiResponse.Error(StatusCodes.Status403Forbidden, CloseReasons.UnknownAgent,
                    $"agent '{check.AgentId}' is not registered with this server; register again with the install package"), null);
            }

            if (gateway is not null)
            {
                agent.Route = CemRoute(gateway);
            }

            return new(agent, null, gateway);
        }
        finally
        {
            forwarded?.Dispose();
        }
    }

    /// <summary>The route an agent has through a gateway: <c>cem via {gateway}</c>.</summary>
    public static string CemRoute(string gateway) => "cem via " + gateway;

    private static AgentAuthentication Refuse(string reason) =>
        new(null, AgentApiResponse.Error(StatusCodes.Status401Unauthorized, CloseReasons.BadCertificate, reason), null);
}

/// <summary>An authenticated agent (and the gateway it came through, if any), or the refusal to answer with.</summary>
internal readonly record struct AgentAuthentication(AgentRecord? Agent, AgentApiResponse? Refusal, string? ViaGateway);
