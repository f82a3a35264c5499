using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tcm.Testing;

/// <summary>
/// Certificates as the tests' clients use them: trust only one CA (a server's own, never the machine's store), present an
/// agent's client certificate, make key pairs and signing requests as a real agent does.
/// </summary>
public static class TestCertificates
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

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

        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, trust);
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        return handler;
    }

    /// <summary>
    /// True when <paramref name="certificate"/> has no error but its chain (the machine does not know the test CA) and
    /// chains to <paramref name="trust"/>, without revocation checks.
    /// </summary>
    public static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 trust)
    {
        ArgumentNullException.ThrowIfNull(trust);
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trust);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var typed = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(typed);
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
    public static X509Certificate2 SelfSignedClient(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ClientAuthentication], false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A copy of <paramref name="certificate"/> without its private key, that outlives the original (a server disposes its own on stop).</summary>
    public static X509Certificate2 PublicCopy(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return X509CertificateLoader.LoadCertificate(certificate.RawData);
    }
}
