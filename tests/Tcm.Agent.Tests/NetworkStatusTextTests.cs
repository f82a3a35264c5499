using Tcm.Agent.Status;

namespace Tcm.Agent.Tests;

/// <summary>The text of <c>tcm agent status</c> (<see cref="NetworkStatusText"/>): the seed's panel, line by line.</summary>
public sealed class NetworkStatusTextTests
{
    private static readonly DateTime AsOf = new(2026, 12, 6, 14, 0, 0, DateTimeKind.Utc);
    private static readonly DateTimeOffset At = new(2026, 12, 6, 13, 59, 58, TimeSpan.Zero);

    private static readonly CertificateInfo NsCertificate = new()
    {
        Subject = "CN=ns.corp",
        Issuer = "CN=TCM CA",
        NotBefore = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        NotAfter = new DateTimeOffset(2028, 1, 1, 0, 0, 0, TimeSpan.Zero),
        Thumbprint = "0A1B2C",
    };

    private static readonly CertificateInfo GatewayCertificate = NsCertificate with { Subject = "CN=gw.example", Thumbprint = "FFEE" };

    private static readonly NetworkStatus Direct = new()
    {
        ServerAddress = "ns.corp:4443",
        Mode = ConnectionMode.Direct,
        Availability = "Available directly",
        CemState = "Cloud-enabled Management mode is not active",
        Transport = TransportKind.Persistent,
        TransportDetail = "Persistent",
        TlsProtocol = "TLS 1.3",
        CipherSuite = "TLS_AES_256_GCM_SHA384",
        ServerCertificate = NsCertificate,
        BytesSent = 29_594,
        BytesReceived = 799,
        PeerDownloading = "Disabled",
        NetworkUsage = "Unrestricted",
        RouteReason = "Direct: the Notification Server is reachable directly",
        LastAttempt = new ConnectionAttempt { At = At, Address = "ns.corp:4443", Route = ConnectionMode.Direct, Outcome = AttemptOutcome.Connected },
    };

    [Fact]
    public void Direct_Persistent_ReadsLikeTheSeedsPanel()
    {
        var text = NetworkStatusText.Format(Direct, AsOf);

        text.Should().Be(
            "Network Status (as of 2026-12-06 14:00:00Z)\n" +
            "Notification Server: Available directly (ns.corp:4443) Cryptographic protocol: TLS 1.3 Cipher suite: TLS_AES_256_GCM_SHA384 [View Notification Server certificate: --certificates]\n" +
            "CEM Mode:            Cloud-enabled Management mode is not active\n" +
            "Server Connection:   Persistent Sent: 28.90 KB Received: 0.78 KB\n" +
            "Peer Downloading:    Disabled\n" +
            "Network Usage:       Unrestricted\n" +
            "Route:               Direct: the Notification Server is reachable directly\n" +
            "Last attempt:        2026-12-06 13:59:58Z ns.corp:4443 (Direct, no proxy): connected\n"
            .ReplaceLineEndings());
    }

    [Theory]
    [InlineData("proxy.corp:3128", null, "Proxy:               via proxy proxy.corp:3128")]
    [InlineData(null, "proxy proxy.corp:3128 refused the credentials (407)", "Proxy:               direct (proxy proxy.corp:3128 refused the credentials (407))")]
    public void Proxy_ShowsTheProxyUsed_OrWhyTheAgentWentDirect(string? via, string? problem, string expected)
    {
        var status = Direct with
        {
            Proxy = via,
            ProxyProblem = problem,
            LastAttempt = Direct.LastAttempt! with { Proxy = via },
        };

        var lines = NetworkStatusText.Format(status, AsOf).Split(Environment.NewLine);

        lines.Should().Contain(expected);
        lines.Should().Contain(l => l.StartsWith("Last attempt:", StringComparison.Ordinal) && l.Contains(via == null ? "(Direct, no proxy)" : $"(Direct, via proxy {via})", StringComparison.Ordinal));
    }

    [Fact]
    public void NoProxy_ShowsNoProxyLine() =>
        NetworkStatusText.Format(Direct, AsOf).Should().NotContain("Proxy:");

    [Fact]
    public void ThroughTheGateway_ShowsBothLegs_AndTheTaskServer()
    {
        var status = Direct with
        {
            Mode = ConnectionMode.Cem,
            Availability = "Available via internet gateway",
            CemState = "Cloud-enabled Management mode is active",
            TlsProtocol = null,
            CipherSuite = null,
            ServerCertificate = null,
            GatewayTlsProtocol = "TLS 1.2",
            GatewayCipherSuite = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            GatewayCertificate = GatewayCertificate,
            BackendTlsProtocol = "TLS 1.3",
            BackendCipherSuite = "TLS_AES_128_GCM_SHA256",
            RouteReason = null,
            LastAttempt = null,
            TaskServer = new NetworkStatus
            {
                ServerAddress = "ts1.corp:4726",
                Mode = ConnectionMode.Cem,
                Availability = "Available via internet gateway",
                Transport = TransportKind.Http,
                TransportDetail = "HTTP (reconnecting: connection failed)",
                GatewayTlsProtocol = "TLS 1.2",
                GatewayCipherSuite = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                LastAttempt = new ConnectionAttempt
                {
                    At = At,
                    Address = "gw.example:4726",
                    Target = "ts1.corp:4726",
                    Route = ConnectionMode.Cem,
                    Outcome = AttemptOutcome.ConnectionRefused,
                    Detail = "connection refused by gw.example:4726: nothing listens on that port",
                },
            },
        };

        var lines = NetworkStatusText.Format(status, AsOf).Split(Environment.NewLine);

        lines.Should().Contain("CEM Mode:            Cloud-enabled Management mode is active Cryptographic protocol: TLS 1.2 Cipher suite: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 [View internet gateway certificate: --certificates]");
        lines.Should().Contain("Gateway to server:   Cryptographic protocol: TLS 1.3 Cipher suite: TLS_AES_128_GCM_SHA256 (as the gateway reports it)");
        lines.Should().Contain("Task Server:         Available via internet gateway (ts1.corp:4726), HTTP (reconnecting: connection failed) Cryptographic protocol: TLS 1.2 Cipher suite: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        lines.Should().Contain("Task Server attempt: 2026-12-06 13:59:58Z gw.example:4726 for ts1.corp:4726 (Cem, no proxy): connection-refused: connection refused by gw.example:4726: nothing listens on that port");
    }

    [Fact]
    public void Certificates_ShowSubjectIssuerValidityAndThumbprint_AndARejectedOnesReason()
    {
        var rejected = NsCertificate with { Subject = "CN=intranet.corp", ValidationError = "its name does not match the host name the agent dialled" };
        var status = Direct with
        {
            LastAttempt = new ConnectionAttempt
            {
                At = At,
                Address = "ns.corp:4443",
                Route = ConnectionMode.Direct,
                Proxy = "proxy.corp:3128",
                Outcome = AttemptOutcome.TlsFailure,
                Detail = "TLS with ns.corp:4443 failed",
                Certificate = rejected,
            },
        };

        var text = NetworkStatusText.Format(status, AsOf, certificates: true);

        text.Should().NotContain("--certificates");
        text.Should().Contain("(Direct, via proxy proxy.corp:3128): tls-failure: TLS with ns.corp:4443 failed");
        text.Should().Contain(
            "Notification Server certificate\n" +
            "  Subject:           CN=ns.corp\n" +
            "  Issuer:            CN=TCM CA\n" +
            "  Valid from:        2026-01-01 00:00:00Z\n" +
            "  Valid to:          2028-01-01 00:00:00Z\n" +
            "  Thumbprint:        0A1B2C\n"
            .ReplaceLineEndings());
        text.Should().Contain("Rejected certificate (last attempt)" + Environment.NewLine + "  Subject:           CN=intranet.corp");
        text.Should().Contain("  Rejected:          its name does not match the host name the agent dialled");
    }

    [Theory]
    [InlineData(AttemptOutcome.ConnectionRefused, "connection-refused")]
    [InlineData(AttemptOutcome.BackendNotConfigured, "backend-not-configured")]
    [InlineData(AttemptOutcome.NotTcm, "not-tcm")]
    [InlineData(AttemptOutcome.Connected, "connected")]
    public void Outcomes_AreNamedInKebabCase(AttemptOutcome outcome, string name) => NetworkStatusText.Kebab(outcome).Should().Be(name);
}
