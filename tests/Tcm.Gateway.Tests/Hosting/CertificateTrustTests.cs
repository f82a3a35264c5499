using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Tcm.Hosting.Certificates;
using Tcm.Testing;

namespace Tcm.Gateway.Tests.Hosting;

public sealed class CertificateTrustTests : IDisposable
{
    private readonly X509Certificate2 _ca = TestCertificates.Ca();

    public void Dispose() => _ca.Dispose();

    [Fact]
    public void ChainsTo_ACertificateOfTheCa_WithClientAuth_IsTrusted()
    {
        using var leaf = TestCertificates.Issue(_ca, "CN=agent");

        CertificateTrust.ChainsTo(leaf, [_ca], CertificateTrust.ClientAuth, out var reason).Should().BeTrue(reason);
        CertificateTrust.ChainsTo(leaf, _ca).Should().BeTrue();
    }

    [Fact]
    public void ChainsTo_AnotherCa_IsRefusedWithTheChainStatus()
    {
        using var other = TestCertificates.Ca("Other CA");
        using var leaf = TestCertificates.Issue(other, "CN=agent");

        CertificateTrust.ChainsTo(leaf, [_ca], CertificateTrust.ClientAuth, out var reason).Should().BeFalse();
        reason.Should().NotBeEmpty();
        CertificateTrust.ChainsTo(leaf, _ca).Should().BeFalse();
    }

    [Fact]
    public void ChainsTo_WithoutTheClientAuthUsage_IsRefused()
    {
        using var serverOnly = TestCertificates.Issue(_ca, "CN=server", clientAuth: false, serverAuth: true);

        CertificateTrust.ChainsTo(serverOnly, [_ca], CertificateTrust.ClientAuth, out var reason).Should().BeFalse();
        reason.Should().Contain("NotValidForUsage");
        CertificateTrust.ChainsTo(serverOnly, [_ca], usage: null, out _).Should().BeTrue("without a required usage the chain alone counts");
    }

    [Fact]
    public void ChainsTo_OneOfSeveralCas_IsTrusted()
    {
        using var first = TestCertificates.Ca("First");
        using var second = TestCertificates.Ca("Second");
        using var leaf = TestCertificates.Issue(second, "CN=agent");

        CertificateTrust.ChainsTo(leaf, new X509Certificate2Collection { first, second }, CertificateTrust.ClientAuth, out var reason).Should().BeTrue(reason);
    }

    [Fact]
    public void ValidateServer_RefusesANameMismatch_AndAcceptsOnlyChainErrors()
    {
        using var server = TestCertificates.Issue(_ca, "CN=server", clientAuth: false, serverAuth: true);

        CertificateTrust.ValidateServer(server, SslPolicyErrors.RemoteCertificateChainErrors, _ca).Should().BeTrue();
        CertificateTrust.ValidateServer(server, SslPolicyErrors.RemoteCertificateNameMismatch, _ca).Should().BeFalse();
        CertificateTrust.ValidateServer(null, SslPolicyErrors.None, _ca).Should().BeFalse();
        using var other = TestCertificates.Ca("Other");
        CertificateTrust.ValidateServer(server, SslPolicyErrors.None, other).Should().BeFalse();
    }

    [Fact]
    public void FromBase64Der_ReadsACertificate_AndRefusesAnythingElse()
    {
        using var leaf = TestCertificates.Issue(_ca, "CN=agent");

        using var read = CertificateTrust.FromBase64Der(" " + Convert.ToBase64String(leaf.RawData) + " ");
        read!.Thumbprint.Should().Be(leaf.Thumbprint);
        CertificateTrust.FromBase64Der("not base64!").Should().BeNull();
        CertificateTrust.FromBase64Der(Convert.ToBase64String([1, 2, 3])).Should().BeNull();
        CertificateTrust.FromBase64Der("").Should().BeNull();
    }
}
