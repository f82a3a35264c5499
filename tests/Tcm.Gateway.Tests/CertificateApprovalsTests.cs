using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Gateway.Certificates;

namespace Tcm.Gateway.Tests;

public sealed class CertificateApprovalsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tcm-gw-tests", Guid.NewGuid().ToString("N")[..12]);

    public CertificateApprovalsTests() => Directory.CreateDirectory(_dir);

    [Fact]
    public void HeldCertificates_AreListed_AndDecisionsSurviveARestart()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var certificate = SelfSigned();
        var thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        var approvals = new CertificateApprovals(_dir, clock, NullLogger<CertificateApprovals>.Instance);

        approvals.Hold(thumbprint, certificate).Should().BeTrue();
        approvals.Hold(thumbprint, certificate).Should().BeTrue();
        approvals.List().Held.Single().Attempts.Should().Be(2);
        approvals.Approve("0000").Should().BeFalse("an unseen certificate cannot be approved");
        approvals.Approve(thumbprint.ToLowerInvariant()).Should().BeTrue();
        approvals.HeldCount.Should().Be(0);

        var reloaded = new CertificateApprovals(_dir, clock, NullLogger<CertificateApprovals>.Instance);
        reloaded.IsApproved(thumbprint).Should().BeTrue();
        reloaded.Block(thumbprint).Should().BeTrue();
        reloaded.IsApproved(thumbprint).Should().BeFalse();
        new CertificateApprovals(_dir, clock, NullLogger<CertificateApprovals>.Instance).IsBlocked(thumbprint).Should().BeTrue();
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest("CN=stranger", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
