using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Tcm.Hosting.Certificates;
using Tcm.Protocol;
using Tcm.TaskServer.Identity;

namespace Tcm.TaskServer.Agents;

/// <summary>
/// Who the agent behind a request is: the TLS client certificate must chain to the NS CA, carry the clientAuth EKU and name
/// <c>CN=&lt;agent id&gt;</c>. This is the single place the Task Server identifies agents: a request relayed by the CEM gateway (its
/// site-server certificate plus <see cref="SiteServerPaths.ForwardedAgentCertificateHeader"/>) is resolved here too, once the gateway
/// work plugs in. Verdicts are cached by certificate hash, so a connect storm does not rebuild chains.
/// </summary>
internal sealed class AgentIdentityResolver(TaskServerIdentity identity, TimeProvider time)
{
    private readonly VerdictCache<Verdict> _cache = new(100_000);
    private readonly VerdictCache<GatewayVerdict> _gateways = new(1_000);

    /// <summary>
    /// The agent id of the request, or the refusal (401 <c>bad-certificate</c>). A request carrying
    /// <see cref="SiteServerPaths.ForwardedAgentCertificateHeader"/> is the agent's only when its TLS client certificate is a gateway
    /// site-server certificate (<c>OU=gateway</c>, clientAuth) from the NS CA; the forwarded certificate is then validated like a
    /// direct one. From anyone else the header is refused.
    /// </summary>
    public AgentIdentity Resolve(HttpContext context)
    {
        if (!context.Request.Headers.TryGetValue(SiteServerPaths.ForwardedAgentCertificateHeader, out var header))
        {
            return Resolve(context.Connection.ClientCertificate);
        }

        if (GatewayName(context.Connection.ClientCertificate) is not { } gateway)
        {
            return AgentIdentity.Refuse($"the {SiteServerPaths.ForwardedAgentCertificateHeader} header is honoured only from a CEM gateway with a certificate from the Notification Server's CA");
        }

        using var forwarded = CertificateTrust.FromBase64Der(header.ToString());
        if (forwarded is null)
        {
            return AgentIdentity.Refuse($"the {SiteServerPaths.ForwardedAgentCertificateHeader} header from gateway '{gateway}' is not a base64 DER certificate");
        }

        var resolved = Resolve(forwarded);
        return resolved.AgentId is null ? AgentIdentity.Refuse($"{resolved.Reason} (forwarded by gateway '{gateway}')") : resolved;
    }

    /// <summary>Whether a CEM gateway relayed the request (it forwards the agent's certificate); true only once <see cref="Resolve(HttpContext)"/> accepted it.</summary>
    public static bool ViaGateway(HttpContext context) => context.Request.Headers.ContainsKey(SiteServerPaths.ForwardedAgentCertificateHeader);

    /// <summary>The gateway's name when <paramref name="certificate"/> is a gateway site-server certificate of the NS CA, else null (cached by hash).</summary>
    private string? GatewayName(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return null;
        }

        var gateway = _gateways.Get(certificate, c =>
        {
            var isGateway = c.SubjectName.EnumerateRelativeDistinguishedNames()
                .Any(rdn => rdn.GetSingleElementType().Value == "2.5.4.11" && rdn.GetSingleElementValue() == "gateway");
            return new GatewayVerdict(isGateway && CertificateTrust.ChainsTo(c, [identity.Ca], CertificateTrust.ClientAuth, out _)
                ? c.GetNameInfo(X509NameType.SimpleName, forIssuer: false)
                : null, CertificateTrust.Validity(c));
        });
        var now = time.GetUtcNow();
        return now >= gateway.Validity.NotBefore && now <= gateway.Validity.NotAfter ? gateway.Name : null;
    }

    /// <summary>The agent id a certificate names, or why it is refused.</summary>
    public AgentIdentity Resolve(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return AgentIdentity.Refuse("no client certificate was presented; the Client Task Agent uses the agent's certificate from its Notification Server");
        }

        var verdict = _cache.Get(certificate, Build);

        if (verdict.AgentId is null)
        {
            return AgentIdentity.Refuse(verdict.Reason!);
        }

        var now = time.GetUtcNow();
        return now < verdict.NotBefore || now > verdict.NotAfter
            ? AgentIdentity.Refuse($"the certificate is valid from {verdict.NotBefore:u} to {verdict.NotAfter:u}")
            : new AgentIdentity(verdict.AgentId, null);
    }

    private Verdict Build(X509Certificate2 certificate)
    {
        var (notBefore, notAfter) = CertificateTrust.Validity(certificate);
        if (!CertificateTrust.ChainsTo(certificate, [identity.Ca], CertificateTrust.ClientAuth, out _))
        {
            return new Verdict(null, "the certificate was not issued by the Notification Server's CA", notBefore, notAfter);
        }

        var agentId = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return agentId is { Length: 32 } && agentId.AsSpan().IndexOfAnyExcept("0123456789abcdef") < 0
            ? new Verdict(agentId, null, notBefore, notAfter)
            : new Verdict(null, "the certificate's subject is not CN=<agent id>", notBefore, notAfter);
    }

    private sealed record GatewayVerdict(string? Name, (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Validity);

    private sealed record Verdict(string? AgentId, string? Reason, DateTimeOffset NotBefore, DateTimeOffset NotAfter);
}

/// <summary>An agent id, or why the request is refused.</summary>
internal readonly record struct AgentIdentity(string? AgentId, string? Reason)
{
    public static AgentIdentity Refuse(string reason) => new(null, reason);
}
