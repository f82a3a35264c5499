using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tcm.Hosting.Certificates;
using Tcm.NotificationServer.Certificates;

namespace Tcm.NotificationServer.SiteServers;

/// <summary>
/// Issues and recognises site-server certificates (Task Servers, CEM gateways): subject <c>CN={name}, OU={kind}</c>, EKUs
/// serverAuth + clientAuth, SANs = the host names it registered, signed by the NS CA. Validation verdicts are cached by the
/// certificate's SHA-256 hash.
/// </summary>
internal sealed class SiteServerCertificates(CertificateAuthority authority)
{
    private const int MaxCachedValidations = 10_000;
    private static readonly Oid ServerAuthOid = new("1.3.6.1.5.5.7.3.1", "Server Authentication");

    private readonly VerdictCache<SiteCertificateCheck> _validations = new(MaxCachedValidations);

    /// <summary>The OU value of a kind: its JSON name (<c>task-server</c>, <c>gateway</c>).</summary>
    public static string KindName(SiteServerKind kind) => JsonSerializer.Serialize(kind, ProtocolJsonContext.Default.SiteServerKind).Trim('"');

    /// <summary>
    /// Signs ONE certificate from the site server's PKCS#10 request (its key pair stays with it). Throws
    /// <see cref="CryptographicException"/> or <see cref="ArgumentException"/> for a request that is not valid PEM, and
    /// <see cref="ArgumentException"/> for an empty host name list.
    /// </summary>
    public string Sign(string csrPem, string name, SiteServerKind kind, IReadOnlyList<string> hostNames)
    {
        if (hostNames.Count == 0)
        {
            throw new ArgumentException("hostNames: at least one DNS name or IP address is needed", nameof(hostNames));
        }

        var csr = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(name);
        subject.AddOrganizationalUnitName(KindName(kind));
        var request = new CertificateRequest(subject.Build(), csr.PublicKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var host in hostNames.Where(h => !string.IsNullOrWhiteSpace(h)).Select(h => h.Trim()).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(host);
            }
        }

        var ca = authority.IssuerCertificate;
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuthOid, CertificateTrust.ClientAuth], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = authority.Time.GetUtcNow();
        using var issued = request.Create(ca, now.AddMinutes(-5), now.AddYears(1), CertificateAuthority.NewSerialNumber());
        return issued.ExportCertificatePem();
    }

    /// <summary>SHA-256 thumbprint (lowercase hex) of a certificate, the key site servers are known by.</summary>
    public static string Thumbprint(X509Certificate2 certificate) => Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256));

    /// <summary>Whether <paramref name="certificate"/> is a site-server certificate of this CA (chain, clientAuth EKU, OU = a kind, validity).</summary>
    public SiteCertificateCheck Validate(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return SiteCertificateCheck.Fail("no client certificate was presented");
        }

        var thumbprint = Thumbprint(certificate);
        var check = _validations.Get(thumbprint, certificate, c => Build(c, thumbprint));
        var now = authority.Time.GetUtcNow();
        if (check.IsValid && (now < check.NotBefore || now > check.NotAfter))
        {
            return SiteCertificateCheck.Fail($"the certificate is valid from {check.NotBefore:u} to {check.NotAfter:u}");
        }

        return check;
    }

    private SiteCertificateCheck Build(X509Certificate2 certificate, string thumbprint)
    {
        var (notBefore, notAfter) = CertificateTrust.Validity(certificate);
        if (!CertificateTrust.ChainsTo(certificate, [authority.PublicCertificate], CertificateTrust.ClientAuth, out var status))
        {
            return SiteCertificateCheck.Fail(status == CertificateTrust.UntrustedRoot
                ? "the certificate was not issued by this server's CA"
                : $"the certificate does not chain to this server's CA ({status})");
        }

        SiteServerKind? kind = null;
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.GetSingleElementType().Value == "2.5.4.11" && rdn.GetSingleElementValue() is { } ou)
            {
                foreach (var candidate in Enum.GetValues<SiteServerKind>())
                {
                    if (KindName(candidate) == ou)
                    {
                        kind = candidate;
                    }
                }
            }
        }

        if (kind is null)
        {
            return SiteCertificateCheck.Fail("the certificate is not a site-server certificate (no OU naming a site-server kind)");
        }

        return new SiteCertificateCheck(kind, thumbprint, certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false), null, notBefore, notAfter);
    }
}

/// <summary>The outcome of <see cref="SiteServerCertificates.Validate"/>.</summary>
internal sealed record SiteCertificateCheck(SiteServerKind? Kind, string? Thumbprint, string? Name, string? Reason, DateTimeOffset NotBefore, DateTimeOffset NotAfter)
{
    public bool IsValid => Kind is not null;

    public static SiteCertificateCheck Fail(string reason) => new(null, null, null, reason, default, default);
}
