using System.Security.Cryptography.X509Certificates;

namespace Tcm.NotificationServer.Tests.Functional;

public sealed class NotificationServerInfoTests
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    [Fact]
    public async Task IssueServerCertificate_ChainsToTheNsCa_ForTheNamesAsked_WithItsKey_ForServerAuthentication()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var info = server.Info;

        using var certificate = info.IssueServerCertificate(["pkg.tcm.lab"], [IPAddress.Loopback]);

        certificate.HasPrivateKey.Should().BeTrue("a server presents it");
        ServerTrust.ChainsTo(certificate, info.CaCertificate).Should().BeTrue("whoever trusts the NS's CA trusts it");
        certificate.MatchesHostname("pkg.tcm.lab").Should().BeTrue();
        certificate.MatchesHostname("127.0.0.1").Should().BeTrue();
        certificate.MatchesHostname("other.tcm.lab").Should().BeFalse();
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages
            .Cast<Oid>().Select(o => o.Value).Should().Contain(ServerAuthentication);
    }
}
