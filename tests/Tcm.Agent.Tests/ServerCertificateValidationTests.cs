using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tcm.Agent.Tests;

public sealed class ServerCertificateValidationTests
{
    [Fact]
    public void ServerCertificate_ChainedToThePackageCa_IsAccepted()
    {
        using var ca = CreateCa("CN=TCM CA");
        using var server = CreateLeaf(ca, "CN=ns.example");

        AgentTransport.ValidateServerCertificate(server, SslPolicyErrors.RemoteCertificateChainErrors, ca).Should().BeTrue();
    }

    [Fact]
    public void ServerCertificate_FromAnotherCa_IsRefused()
    {
        using var ca = CreateCa("CN=TCM CA");
        using var other = CreateCa("CN=Other CA");
        using var server = CreateLeaf(other, "CN=ns.example");

        AgentTransport.ValidateServerCertificate(server, SslPolicyErrors.None, ca).Should().BeFalse("the system store must not vouch for the server");
    }

    [Fact]
    public void ServerCertificate_NameMismatch_IsRefused()
    {
        using var ca = CreateCa("CN=TCM CA");
        using var server = CreateLeaf(ca, "CN=ns.example");

        AgentTransport.ValidateServerCertificate(server, SslPolicyErrors.RemoteCertificateNameMismatch, ca).Should().BeFalse();
        AgentTransport.ValidateServerCertificate(null, SslPolicyErrors.RemoteCertificateNotAvailable, ca).Should().BeFalse();
    }

    [Fact]
    public void ClientCertificate_LoadsFromPemWithItsKey()
    {
        using var ca = CreateCa("CN=TCM CA");
        using var leaf = CreateLeaf(ca, "CN=agent");
        var key = leaf.GetECDsaPrivateKey()!;

        using var loaded = AgentTransport.LoadClientCertificate(leaf.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());

        loaded.HasPrivateKey.Should().BeTrue();
        loaded.Subject.Should().Be("CN=agent");
    }

    private static X509Certificate2 CreateCa(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    private static X509Certificate2 CreateLeaf(X509Certificate2 ca, string subject)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        using var signed = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMonths(1), RandomNumberGenerator.GetBytes(8));
        return signed.CopyWithPrivateKey(key);
    }
}
