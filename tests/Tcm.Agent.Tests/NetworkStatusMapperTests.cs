using Tcm.Agent.Status;

namespace Tcm.Agent.Tests;

public sealed class NetworkStatusMapperTests
{
    private static readonly ConnectionFacts Persistent = new()
    {
        ServerAddress = "ns.example:4443",
        RouteMode = ConnectionMode.Direct,
        RouteReason = "Direct: first server host of profile 'Default'",
        Reachable = true,
        Persistent = true,
        TlsProtocol = "TLS 1.3",
        CipherSuite = "TLS_AES_256_GCM_SHA384",
        BytesSent = 29_594,
        BytesReceived = 799,
        ConnectedSince = new DateTimeOffset(2025, 1, 1, 8, 0, 0, TimeSpan.Zero),
    };

    [Fact]
    public void Persistent_Direct_ReadsLikeTheProductPanel()
    {
        var status = NetworkStatusMapper.Map(Persistent);

        status.ServerAddress.Should().Be("ns.example:4443");
        status.Mode.Should().Be(ConnectionMode.Direct);
        status.Availability.Should().Be("Available directly");
        status.CemState.Should().Be("Cloud-enabled Management mode is not active");
        status.Transport.Should().Be(TransportKind.Persistent);
        status.TransportDetail.Should().Be("Persistent");
        status.TlsProtocol.Should().Be("TLS 1.3");
        status.CipherSuite.Should().Be("TLS_AES_256_GCM_SHA384");
        status.BytesSent.Should().Be(29_594);
        status.BytesReceived.Should().Be(799);
        status.ConnectedSince.Should().Be(Persistent.ConnectedSince);
        status.RouteReason.Should().StartWith("Direct");
    }

    [Fact]
    public void Http_ShowsTheReason_AndNoConnectedSince()
    {
        var status = NetworkStatusMapper.Map(Persistent with { Persistent = false, HttpReason = "tcm-disabled: TCM communication is off on the Notification Server" });

        status.Transport.Should().Be(TransportKind.Http);
        status.TransportDetail.Should().Be("HTTP (tcm-disabled: TCM communication is off on the Notification Server)");
        status.ConnectedSince.Should().BeNull();
        status.Availability.Should().Be("Available directly");
    }

    [Fact]
    public void Http_WithoutReason_IsPlainHttp()
    {
        NetworkStatusMapper.Map(Persistent with { Persistent = false }).TransportDetail.Should().Be("HTTP");
    }

    [Fact]
    public void Unreachable_IsOffline_NotAvailable()
    {
        var status = NetworkStatusMapper.Map(Persistent with { Persistent = false, Reachable = false, HttpReason = "reconnecting: connection refused" });

        status.Mode.Should().Be(ConnectionMode.Offline);
        status.Availability.Should().Be("Not available");
        status.Transport.Should().Be(TransportKind.Http);
    }

    [Fact]
    public void Cem_IsAvailableViaGateway_AndCemModeActive()
    {
        var status = NetworkStatusMapper.Map(Persistent with { RouteMode = ConnectionMode.Cem });

        status.Availability.Should().Be("Available via internet gateway");
        status.CemState.Should().Be("Cloud-enabled Management mode is active");
    }

    [Fact]
    public void WithoutCounters_IgnoresByteCounts_ForChangeDetection()
    {
        var a = NetworkStatusMapper.Map(Persistent);
        var b = NetworkStatusMapper.Map(Persistent with { BytesSent = 1, BytesReceived = 2 });

        NetworkStatusMapper.WithoutCounters(a).Should().Be(NetworkStatusMapper.WithoutCounters(b));
    }
}
