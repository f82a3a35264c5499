using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tcm.Protocol;

namespace Tcm.Testing;

/// <summary>
/// Certificates as the tests' clients use them: trust only one CA (a server's own, never the machine's store), present an
/// agent's client certificate, make key pairs and signing requests as a real agent does.
/// </summary>
public static class TestCertificates
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    /// <summary>
    /// An HTTP handler whose TLS accepts a server certificate only when it names the host asked for and chains to
    /// <paramref name="trust"/>, and that presents <paramref name="clientCertificate"/> when given.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(X509Certificate2 trust, X509Certificate2? clientCertificate = null, CookieContainer? cookies = null)
    {
        ArgumentNullException.ThrowIfNull(trust);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
            UseCookies = cookies is not null,
        };
        if (cookies is not null)
        {
            handler.CookieContainer = cookies;
        }

        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ServerTrust.ValidateServer(certificate, errors, trust);
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        return handler;
    }

    /// <summary>A new P-256 key and a PEM signing request for <c>CN=<paramref name="commonName"/></c>, as an agent registers with.</summary>
    public static (ECDsa Key, string SigningRequestPem) CreateSigningRequest(string commonName)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (key, new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem());
    }

    /// <summary>The certificate in <paramref name="certificatePem"/> with <paramref name="key"/>, usable for TLS client authentication.</summary>
    public static X509Certificate2 CombineWithKey(string certificatePem, ECDsa key)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        using var withKey = certificate.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>A self-signed client certificate for <c>CN=<paramref name="subject"/></c> that no TCM CA issued.</summary>
    public static X509Certificate2 SelfSignedClient(string subject) =>
        Create($"CN={subject}", issuer: null, [ClientAuthentication], TimeSpan.FromDays(30), request => { });

    /// <summary>A CA certificate with its key, valid for a year: what the tests of certificate trust issue from.</summary>
    public static X509Certificate2 Ca(string name = "Test CA") =>
        Create($"CN={name}", issuer: null, usages: null, TimeSpan.FromDays(365), request =>
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        });

    /// <summary>A leaf with its key, issued by <paramref name="ca"/>, for clientAuth and/or serverAuth, with localhost/127.0.0.1 SANs.</summary>
    public static X509Certificate2 Issue(X509Certificate2 ca, string subject, bool clientAuth = true, bool serverAuth = false)
    {
        ArgumentNullException.ThrowIfNull(ca);
        Oid[] usages = [.. clientAuth ? [ClientAuthentication] : Array.Empty<Oid>(), .. serverAuth ? [ServerAuthentication] : Array.Empty<Oid>()];
        return Create(subject, ca, usages, TimeSpan.FromDays(30), request =>
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        });
    }

    /// <summary>
    /// The one way the kit makes a certificate: a new P-256 key, <paramref name="usages"/> as the enhanced key usage (none when
    /// null), self-signed or issued by <paramref name="issuer"/>, valid from a little before now; returned with its key.
    /// </summary>
    private static X509Certificate2 Create(string subject, X509Certificate2? issuer, Oid[]? usages, TimeSpan lifetime, Action<CertificateRequest> extend)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        if (usages is not null)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([.. usages], false));
        }

        extend(request);
        var now = DateTimeOffset.UtcNow;
        if (issuer is null)
        {
            using var created = request.CreateSelfSigned(now.AddDays(-1), now.Add(lifetime));
            return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
        }

        using var issued = request.Create(issuer, now.AddMinutes(-5), now.Add(lifetime), RandomNumberGenerator.GetBytes(8));
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A copy of <paramref name="certificate"/> without its private key, that outlives the original (a server disposes its own on stop).</summary>
    public static X509Certificate2 PublicCopy(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return X509CertificateLoader.LoadCertificate(certificate.RawData);
    }
}
