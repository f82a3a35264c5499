using System.Security.Cryptography.X509Certificates;
using Tcm.NotificationServer.Agents;

namespace Tcm.NotificationServer.SiteServers;

/// <summary>
/// Recognises a site server (Task Server or gateway) by the TLS client certificate of a request: it must chain to the NS CA, carry
/// the clientAuth EKU and <c>OU={kind}</c>, and be the certificate currently issued to a known site server. The one place the NS
/// asks "is this request from a site server, and which?" (the gateway's forwarded agent identity is honoured only when this says
/// <see cref="SiteServerKind.Gateway"/>).
/// </summary>
internal sealed class SiteServerAuthenticator(SiteServerCertificates certificates, SiteServerDirectory directory)
{
    /// <summary>The site server that presented <paramref name="certificate"/>, or null (not a current site-server certificate).</summary>
    public SiteServerRecord? Recognize(X509Certificate2? certificate)
    {
        var check = certificates.Validate(certificate);
        return check.IsValid && directory.TryGetByThumbprint(check.Thumbprint!, out var record) && record.Kind == check.Kind ? record : null;
    }

    /// <summary>Whether the request comes from a registered site server of <paramref name="kind"/>.</summary>
    public bool Is(HttpContext context, SiteServerKind kind) => Recognize(context.Connection.ClientCertificate)?.Kind == kind;

    /// <summary>The site server of <paramref name="kind"/> behind the request, or the refusal (401 <c>bad-certificate</c>).</summary>
    public SiteServerAuthentication Authenticate(HttpContext context, SiteServerKind kind)
    {
        var certificate = context.Connection.ClientCertificate;
        var check = certificates.Validate(certificate);
        if (!check.IsValid)
        {
            return new(null, AgentApiResponse.Error(StatusCodes.Status401Unauthorized, CloseReasons.BadCertificate, $"site server: {check.Reason}"));
        }

        if (check.Kind != kind)
        {
            return new(null, AgentApiResponse.Error(StatusCodes.Status403Forbidden, CloseReasons.BadCertificate,
                $"this endpoint is for {SiteServerCertificates.KindName(kind)} site servers, the certificate is for {SiteServerCertificates.KindName(check.Kind!.Value)}"));
        }

        if (!directory.TryGetByThumbprint(check.Thumbprint!, out var record))
        {
            return new(null, AgentApiResponse.Error(StatusCodes.Status401Unauthorized, CloseReasons.BadCertificate,
                $"site server '{check.Name}': the certificate is not the one currently issued to it; register again"));
        }

        return new(record, null);
    }
}

/// <summary>An authenticated site server, or the refusal to answer with.</summary>
internal readonly record struct SiteServerAuthentication(SiteServerRecord? Server, AgentApiResponse? Refusal);
