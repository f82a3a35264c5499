using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tcm.Protocol;

namespace Tcm.LoadTests.Baseline.Server;

/// <summary>
/// A throw-away CA and a server certificate for 127.0.0.1/localhost (ECDSA P-256, as the NS's development CA), made with
/// <see cref="CertificateRequest"/>, and the client-side check against that CA.
/// </summary>
internal sealed class BaselineCertificates : IDisposable
{
    private BaselineCertificates(X509Certificate2 ca, X509Certificate2 server)
    {
        Ca = ca;
        Server = server;
    }

    /// <summary>The CA certificate (public part).</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>The server certificate with its private key.</summary>
    public X509Certificate2 Server { get; }

    /// <summary>Creates a fresh CA and server certificate.</summary>
    public static BaselineCertificates Create()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=TCM load-test baseline CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var caWithKey = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(7));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = RandomNumberGenerator.GetBytes(12);
        using var signed = serverRequest.Create(caWithKey, now.AddMinutes(-5), now.AddDays(6), serial);
        using var withKey = signed.CopyWithPrivateKey(serverKey);

        // Round-trip through PKCS#12 so the key is usable by SslStream on every platform.
        var server = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        var ca = X509CertificateLoader.LoadCertificate(caWithKey.Export(X509ContentType.Cert));
        return new BaselineCertificates(ca, server);
    }

    /// <summary>Writes the server certificate with its key as PKCS#12 (no password; the file is temporary and private).</summary>
    public void WriteServerPfx(string path) => File.WriteAllBytes(path, Server.Export(X509ContentType.Pkcs12));

    /// <summary>Writes the CA certificate as PEM.</summary>
    public void WriteCaPem(string path) => File.WriteAllText(path, Ca.ExportCertificatePem());

    /// <summary>
    /// A validation callback that accepts a server certificate chaining to <paramref name="ca"/> (custom root trust, no
    /// revocation check) with a matching name; null <paramref name="ca"/> keeps the system's verdict.
    /// </summary>
    public static RemoteCertificateValidationCallback Validator(X509Certificate2? ca) => (_, certificate, _, errors) =>
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (ca is null || certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        return ServerTrust.ChainsTo(certificate, ca);
    };

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
    }
}
