using Microsoft.AspNetCore.Http;
using Tcm.NotificationServer.Certificates;
using Tcm.Protocol;

namespace Tcm.NotificationServer.Agents;

/// <summary>Identifies the agent behind a request by its TLS client certificate.</summary>
internal sealed class AgentAuthenticator(CertificateAuthority authority, AgentDirectory directory)
{
    /// <summary>The agent, or the refusal: 401 <c>bad-certificate</c> or 403 <c>unknown-agent</c>.</summary>
    public AgentAuthentication Authenticate(HttpContext context)
    {
        var check = authority.Validate(context.Connection.ClientCertificate);
        if (!check.IsValid)
        {
            return new(null, AgentApiResponse.Error(StatusCodes.Status401Unauthorized, CloseReasons.BadCertificate, check.Reason!));
        }

        if (!directory.TryGet(check.AgentId!, out var agent))
        {
            return new(null, AgentApiResponse.Error(StatusCodes.Status403Forbidden, CloseReasons.UnknownAgent,
                $"agent '{check.AgentId}' is not registered with this server; register again with the install package"));
        }

        return new(agent, null);
    }
}

/// <summary>An authenticated agent, or the refusal to answer with.</summary>
internal readonly record struct AgentAuthentication(AgentRecord? Agent, AgentApiResponse? Refusal);
