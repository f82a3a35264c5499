using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Tcm.Gateway.Identity;
using Tcm.Hosting.Certificates;
using Tcm.Protocol;

namespace Tcm.Gateway.Certificates;

/// <summary>
/// Decides whether an agent's TLS client certificate may use the relay: issued by a configured NS CA (chain cached by
/// thumbprint, validity checked on every use against the clock) and not blocked; otherwise refused, or held for approval when
/// <see cref="GatewayOptions.HoldUnknownCertificates"/> is on (an approved certificate then passes).
/// </summary>
internal sealed class AgentCertificateValidator(GatewayIdentity identity, CertificateApprovals approvals, IOptions<GatewayOptions> options, TimeProvider time)
{
    private readonly VerdictCache<ChainVerdict> _chains = new(200_000);
    private readonly GatewayOptions _options = options.Value;

    public CertificateVerdict Check(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return CertificateVerdict.Refuse(StatusCodes.Status401Unauthorized, CloseReasons.BadCertificate,
                $"no client certificate was presented to gateway '{_options.Name}'; agents present the certificate their Notification Server issued");
        }

        var thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        if (approvals.IsBlocked(thumbprint))
        {
            return CertificateVerdict.Refuse(StatusCodes.Status403Forbidden, CloseReasons.CertificateBlocked,
                $"certificate {thumbprint} ({certificate.Subject}) is blocked on gateway '{_options.Name}'");
        }

        var chain = _chains.Get(thumbprint, certificate, BuildChain);

        var now = time.GetUtcNow();
        if (chain.Trusted && (now < chain.NotBefore || now > chain.NotAfter))
        {
            return CertificateVerdict.Refuse(StatusCodes.Status401Unauthorized, CloseReasons.BadCertificate,
                $"the certificate is valid from {chain.NotBefore:u} to {chain.NotAfter:u}");
        }

        if (chain.Trusted || approvals.IsApproved(thumbprint))
        {
            return CertificateVerdict.Accept(thumbprint);
        }

        if (_options.HoldUnknownCertificates)
        {
            approvals.Hold(thumbprint, certificate);
            return CertificateVerdict.Refuse(StatusCodes.Status403Forbidden, CloseReasons.CertificateHeld,
                $"certificate {thumbprint} ({certificate.Subject}) was not issued by a CA configured on gateway '{_options.Name}' and is held until an administrator approves it");
        }

        return CertificateVerdict.Refuse(StatusCodes.Status401Unauthorized, CloseReasons.BadCertificate,
            $"the certificate ({certificate.Subject}, issued by {certificate.Issuer}) was not issued by a CA configured on gateway '{_options.Name}' ({chain.Reason})");
    }

    private ChainVerdict BuildChain(X509Certificate2 certificate)
    {
        var (notBefore, notAfter) = CertificateTrust.Validity(certificate);
        var trusted = CertificateTrust.ChainsTo(certificate, identity.TrustedCas, CertificateTrust.ClientAuth, out var reason);
        return new ChainVerdict(trusted, reason, notBefore, notAfter);
    }

    private sealed record ChainVerdict(bool Trusted, string Reason, DateTimeOffset NotBefore, DateTimeOffset NotAfter);
}

/// <summary>The outcome of <see cref="AgentCertificateValidator.Check"/>.</summary>
internal readonly record struct CertificateVerdict(bool Accepted, string? Thumbprint, int Status, string? Code, string? Detail)
{
    public static CertificateVerdict Accept(string thumbprint) => new(true, thumbprint, StatusCodes.Status200OK, null, null);

    public static CertificateVerdict Refuse(int status, string code, string detail) => new(false, null, status, code, detail);
}
