using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Gateway.Certificates;
using Tcm.Testing;

namespace Tcm.Gateway.Tests;

public sealed class CertificateApprovalsTests : IDisposable
{
    private readonly TemporaryFolder _folder = new("gw-approvals");

    public CertificateApprovalsTests() => Directory.CreateDirectory(_folder.Path);

    [Fact]
    public void HeldCertificates_AreListed_AndDecisionsSurviveARestart()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var certificate = TestCertificates.SelfSignedClient("stranger");
        var thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        var approvals = new CertificateApprovals(_folder.Path, clock, NullLogger<CertificateApprovals>.Instance);

        approvals.Hold(thumbprint, certificate).Should().BeTrue();
        approvals.Hold(thumbprint, certificate).Should().BeTrue();
        approvals.List().Held.Single().Attempts.Should().Be(2);
        approvals.Approve("0000").Should().BeFalse("an unseen certificate cannot be approved");
        approvals.Approve(thumbprint.ToLowerInvariant()).Should().BeTrue();
        approvals.HeldCount.Should().Be(0);

        var reloaded = new CertificateApprovals(_folder.Path, clock, NullLogger<CertificateApprovals>.Instance);
        reloaded.IsApproved(thumbprint).Should().BeTrue();
        reloaded.Block(thumbprint).Should().BeTrue();
        reloaded.IsApproved(thumbprint).Should().BeFalse();
        new CertificateApprovals(_folder.Path, clock, NullLogger<CertificateApprovals>.Instance).IsBlocked(thumbprint).Should().BeTrue();
    }

    public void Dispose() => _folder.Dispose();
}
