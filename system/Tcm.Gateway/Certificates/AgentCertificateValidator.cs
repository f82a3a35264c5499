using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Tcm.Gateway.Identity;
using Tcm.Protocol;

namespace Tcm.Gateway.Certificates;

/// <summary>
/// Decides whether an agent's TLS client certificate may use the relay: issued by a configured NS CA (chain cached by
/// thumbprint, validity checked on every use against the clock) and not blocked; otherwise refused, or held for approval when
/// <see cref="GatewayOptions.HoldUnknownCertificates"/> is on (an approved certificate then passes).
/// </summary>
internal sealed class AgentCertificateValidator(GatewayIdentity identity, CertificateApprovals approvals, IOptions<GatewayOptions> options, TimeProvider time)
{
    private const int MaxCached = 200_000;
    private static readonly Oid ClientAuthOid = new("1.3.6.1.5.5.7.3.2", "Client Authentication");
    private readonly ConcurrentDictionary<string, ChainVerdict> _chains = new(StringComparer.Ordinal);
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

        if (!_chains.TryGetValue(thumbprint, out var chain))
        {
            chain = BuildChain(certificate);
            if (_chains.Count >= MaxCached)
            {
                _chains.Clear();
            }

            _chains[thumbprint] = chain;
        }

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
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(identity.TrustedCas);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthOid);
        // why: validity is checked on every use against the injected clock; the cached verdict is about the chain only.
        chain.ChainPolicy.VerificationTime = notBefore.AddSeconds(1).UtcDateTime;
        try
        {
            if (!chain.Build(certificate))
            {
                return new ChainVerdict(false, string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString())), notBefore, notAfter);
            }

            var root = chain.ChainElements[^1].Certificate;
            var trusted = identity.TrustedCas.Any(ca => ca.RawDataMemory.Span.SequenceEqual(root.RawDataMemory.Span));
            return new ChainVerdict(trusted, trusted ? "" : "untrusted root", notBefore, notAfter);
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    private sealed record ChainVerdict(bool Trusted, string Reason, DateTimeOffset NotBefore, DateTimeOffset NotAfter);
}

/// <summary>The outcome of <see cref="AgentCertificateValidator.Check"/>.</summary>
internal readonly record struct CertificateVerdict(bool Accepted, string? Thumbprint, int Status, string? Code, string? Detail)
{
    public static CertificateVerdict Accept(string thumbprint) => new(true, thumbprint, StatusCodes.Status200OK, null, null);

    public static CertificateVerdict Refuse(int status, string code, string detail) => new(false, null, status, code, detail);
}
