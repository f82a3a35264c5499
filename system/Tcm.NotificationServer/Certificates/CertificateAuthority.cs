using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tcm.Hosting.Certificates;
using Tcm.Hosting.Data;

namespace Tcm.NotificationServer.Certificates;

/// <summary>
/// The development CA of the Notification Server: created on first run into the data folder and reused after;
/// issues the server certificate and the agents' client certificates, and validates the certificates agents present.
/// </summary>
internal sealed partial class CertificateAuthority : IDisposable
{
    internal const string CaFileName = "ca.pfx";
    private const int MaxCachedValidations = 200_000;
    private static readonly Oid ServerAuthOid = new("1.3.6.1.5.5.7.3.1", "Server Authentication");

    private readonly X509Certificate2 _ca;
    private readonly TimeProvider _time;
    private readonly VerdictCache<CachedValidation> _validations = new(MaxCachedValidations);

    private CertificateAuthority(X509Certificate2 ca, TimeProvider time)
    {
        _ca = ca;
        _time = time;
        PublicCertificate = X509CertificateLoader.LoadCertificate(ca.RawData);
        CertificatePem = ca.ExportCertificatePem();
    }

    /// <summary>The CA certificate without its private key.</summary>
    public X509Certificate2 PublicCertificate { get; }

    /// <summary>The CA certificate as PEM, as agents receive it.</summary>
    public string CertificatePem { get; }

    /// <summary>The CA certificate with its private key, for other issuers of this CA (site-server certificates).</summary>
    internal X509Certificate2 IssuerCertificate => _ca;

    /// <summary>The injected clock the CA issues and validates with.</summary>
    internal TimeProvider Time => _time;

    /// <summary>Loads <c>ca.pfx</c> from <paramref name="dataDirectory"/>, or creates it (ECDSA P-256, 10 years) when absent.</summary>
    public static CertificateAuthority LoadOrCreate(string dataDirectory, TimeProvider time, ILogger logger)
    {
        var path = Path.Combine(dataDirectory, CaFileName);
        if (File.Exists(path))
        {
            var loaded = X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
            if (!loaded.HasPrivateKey)
            {
                throw new InvalidOperationException($"The CA file '{path}' has no private key; delete it to have a new CA generated.");
            }

            Log.CaLoaded(logger, path, loaded.Subject, loaded.NotAfter);
            return new CertificateAuthority(loaded, time);
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=TCM Development CA ({Environment.MachineName}), O=TCM", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = time.GetUtcNow();
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        var pfx = created.Export(X509ContentType.Pkcs12);
        DataFolder.WritePrivateFile(path, pfx);
        Log.CaCreated(logger, path, created.Subject);
        return new CertificateAuthority(X509CertificateLoader.LoadPkcs12(pfx, password: null), time);
    }

    /// <summary>Issues a TLS server certificate signed by the CA for the given names.</summary>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var names = dnsNames.Where(n => !string.IsNullOrWhiteSpace(n)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var request = new CertificateRequest($"CN={names.FirstOrDefault() ?? "localhost"}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        foreach (var address in addresses.Distinct())
        {
            san.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuthOid], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = _time.GetUtcNow();
        using var issued = request.Create(_ca, now.AddMinutes(-5), now.AddYears(1), NewSerialNumber());
        using var withKey = issued.CopyWithPrivateKey(key);
        // why: on Windows SslStream cannot use an ephemeral key for a server certificate; a PFX round trip works everywhere.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>
    /// Signs the agent's PKCS#10 request: the subject becomes <c>CN={agentId}</c> whatever the request said, with the
    /// client-authentication EKU and a one-year validity. Throws <see cref="CryptographicException"/> or
    /// <see cref="ArgumentException"/> for a request that is not valid PEM or whose signature does not verify.
    /// </summary>
    public string SignAgentCertificate(string csrPem, string agentId)
    {
        var csr = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={agentId}"), csr.PublicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([CertificateTrust.ClientAuth], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = _time.GetUtcNow();
        using var issued = request.Create(_ca, now.AddMinutes(-5), now.AddYears(1), NewSerialNumber());
        return issued.ExportCertificatePem();
    }

    /// <summary>
    /// Validates a client certificate against the CA. Results are cached by the certificate's SHA-256 hash, so the
    /// TLS handshakes of thousands of agents do not each build a chain.
    /// </summary>
    public ClientCertificateCheck Validate(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return ClientCertificateCheck.Fail("no client certificate was presented; register first and use the issued certificate");
        }

        var now = _time.GetUtcNow();
        var cached = _validations.Get(certificate, BuildChain);
        if (cached.AgentId is null)
        {
            return ClientCertificateCheck.Fail(cached.Reason ?? "the certificate is not valid");
        }

        if (now > cached.NotAfter || now < cached.NotBefore)
        {
            return ClientCertificateCheck.Fail($"the certificate is valid from {cached.NotBefore:u} to {cached.NotAfter:u}");
        }

        return new ClientCertificateCheck(cached.AgentId, null);
    }

    private CachedValidation BuildChain(X509Certificate2 certificate)
    {
        var (notBefore, notAfter) = CertificateTrust.Validity(certificate);
        if (!CertificateTrust.ChainsTo(certificate, [PublicCertificate], CertificateTrust.ClientAuth, out var status))
        {
            return new CachedValidation(null, status == CertificateTrust.UntrustedRoot
                ? "the certificate was not issued by this server's CA"
                : $"the certificate does not chain to this server's CA ({status})", notBefore, notAfter);
        }

        var agentId = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (!AgentIds.IsWellFormed(agentId))
        {
            return new CachedValidation(null, "the certificate's subject is not CN=<agent id>", notBefore, notAfter);
        }

        return new CachedValidation(agentId, null, notBefore, notAfter);
    }

    internal static byte[] NewSerialNumber()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        return serial;
    }

    public void Dispose()
    {
        _ca.Dispose();
        PublicCertificate.Dispose();
    }

    private sealed record CachedValidation(string? AgentId, string? Reason, DateTimeOffset NotBefore, DateTimeOffset NotAfter);

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Loaded the CA from '{Path}': {Subject}, valid until {NotAfter:u}")]
        public static partial void CaLoaded(ILogger logger, string path, string subject, DateTime notAfter);

        [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Created a new development CA in '{Path}': {Subject}. Agents registered against another CA must re-register.")]
        public static partial void CaCreated(ILogger logger, string path, string subject);
    }
}

/// <summary>The outcome of <see cref="CertificateAuthority.Validate"/>: the agent id, or why the certificate is refused.</summary>
internal readonly record struct ClientCertificateCheck(string? AgentId, string? Reason)
{
    public bool IsValid => AgentId is not null;

    public static ClientCertificateCheck Fail(string reason) => new(null, reason);
}

/// <summary>Agent ids: lowercase hex of 16 random bytes.</summary>
internal static class AgentIds
{
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static bool IsWellFormed(string? id) =>
        id is { Length: 32 } && id.AsSpan().IndexOfAnyExcept("0123456789abcdef") < 0;
}
