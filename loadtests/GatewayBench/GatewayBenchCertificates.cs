using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tcm.LoadTests.GatewayBench;

/// <summary>The bench's certificates: a CA standing in for the NS CA, the gateways' site-server identity, the servers' certificate, the agents'.</summary>
internal static class GatewayBenchCertificates
{
    /// <summary>Writes the CA, the gateway's site-server identity (in its data folder) and the servers' certificate.</summary>
    public static void Write(string dir, string gatewayData)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=TCM bench CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(2));
        File.WriteAllBytes(Path.Combine(dir, "ca.pfx"), ca.Export(X509ContentType.Pkcs12));
        var gatewayIdentity = Issue(ca, "CN=bench-gw, OU=gateway", server: true).Export(X509ContentType.Pkcs12);
        var identity = Directory.CreateDirectory(Path.Combine(gatewayData, "identity")).FullName;
        File.WriteAllText(Path.Combine(identity, "ns1.ca.pem"), ca.ExportCertificatePem());
        File.WriteAllBytes(Path.Combine(identity, "ns1.pfx"), gatewayIdentity);
        File.WriteAllBytes(Path.Combine(dir, "server.pfx"), Issue(ca, "CN=localhost", server: true).Export(X509ContentType.Pkcs12));
    }

    /// <summary>A certificate from the bench CA: a client one, or a server one for localhost and 127.0.0.1.</summary>
    public static X509Certificate2 Issue(X509Certificate2 ca, string subject, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") };
        if (server)
        {
            usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1), serial);
        return issued.CopyWithPrivateKey(key);
    }
}
