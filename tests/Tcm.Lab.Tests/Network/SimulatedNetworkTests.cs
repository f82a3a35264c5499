using System.Net;
using System.Net.Sockets;
using Tcm.Agent.Network;
using Tcm.Lab.Network;

namespace Tcm.Lab.Tests.Network;

public sealed class SimulatedNetworkTests : IAsyncLifetime
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(10);
    private static readonly DnsEndPoint s_ns = new("ns.contoso.local", 4443);
    private static readonly DnsEndPoint s_gateway = new("gateway.contoso.com", 8443);
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly NetworkTopology _topology = new();
    private readonly VpnAdapterSpec _checkPoint = VpnAdapterPresets.Find("checkpoint")!;
    private readonly List<Socket> _accepted = [];

    public Task InitializeAsync()
    {
        _listener.Start();
        var target = (IPEndPoint)_listener.LocalEndpoint;
        _topology.Register("ns.contoso.local", 4443, EndpointClass.Corporate, target, "ns");
        _topology.Register("gateway.contoso.com:8443", EndpointClass.Public, target, "gateway");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        foreach (var socket in _accepted)
        {
            socket.Dispose();
        }

        _listener.Stop();
        _listener.Dispose();
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("Office", "None", "Corporate", true, "Ethernet")]
    [InlineData("Office", "Down", "Corporate", true, "Ethernet")]
    [InlineData("Office", "Up", "Corporate", true, "Ethernet")]
    [InlineData("Office", "None", "Public", true, "Ethernet")]
    [InlineData("Office", "Up", "Public", true, "Ethernet")]
    [InlineData("Internet", "None", "Corporate", false, null)]
    [InlineData("Internet", "Down", "Corporate", false, null)]
    [InlineData("Internet", "Up", "Corporate", true, "Vpn")]
    [InlineData("Internet", "None", "Public", true, "WiFi")]
    [InlineData("Internet", "Down", "Public", true, "WiFi")]
    [InlineData("Internet", "Up", "Public", true, "WiFi")]
    public async Task Reachability_FollowsTheNetworkModel(string location, string vpn, string destination, bool reachable, string? adapter)
    {
        var vpnState = Enum.Parse<VpnState>(vpn);
        var network = new SimulatedNetwork(_topology, Enum.Parse<AgentLocation>(location), vpnState == VpnState.None ? null : _checkPoint, vpnState == VpnState.Up);
        var endpoint = destination == "Corporate" ? s_ns : s_gateway;

        if (reachable)
        {
            await using var stream = await network.ConnectAsync(endpoint, TrafficPurpose.Management, CancellationToken.None);
            ((SimulatedConnection)stream).Adapter.Should().Be(Enum.Parse<AdapterKind>(adapter!));
            network.OpenConnections.Should().Be(1);
        }
        else
        {
            var connect = async () => await network.ConnectAsync(endpoint, TrafficPurpose.Management, CancellationToken.None);
            (await connect.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.NetworkUnreachable);
            _topology.Counters.Unreachable.Should().Be(1);
            network.OpenConnections.Should().Be(0);
        }
    }

    [Fact]
    public async Task UnknownHost_IsHostNotFound()
    {
        var network = new SimulatedNetwork(_topology, AgentLocation.Office);
        var connect = async () => await network.ConnectAsync(new DnsEndPoint("nowhere", 1), TrafficPurpose.Probe, CancellationToken.None);

        (await connect.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.HostNotFound);
    }

    [Fact]
    public async Task KnownHost_PortNobodyListensOn_IsRefused()
    {
        var network = new SimulatedNetwork(_topology, AgentLocation.Internet, null, false);

        var connect = async () => await network.ConnectAsync(new DnsEndPoint(s_gateway.Host, 4726), TrafficPurpose.Management, CancellationToken.None);

        (await connect.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
    }

    [Fact]
    public async Task KnownHost_OtherPort_OutOfReach_IsUnreachable()
    {
        var network = new SimulatedNetwork(_topology, AgentLocation.Internet, null, false);

        var connect = async () => await network.ConnectAsync(new DnsEndPoint(s_ns.Host, 4726), TrafficPurpose.Management, CancellationToken.None);

        (await connect.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.NetworkUnreachable);
    }

    [Fact]
    public async Task EndpointDown_IsConnectionRefused()
    {
        _topology.FindByLabel("ns")!.IsUp = false;
        var network = new SimulatedNetwork(_topology, AgentLocation.Office);
        var connect = async () => await network.ConnectAsync(s_ns, TrafficPurpose.Management, CancellationToken.None);

        (await connect.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
    }

    [Fact]
    public async Task Traffic_IsCountedPerAdapterDestinationAndPurpose()
    {
        var network = OnTheInternetWithVpnUp();
        await using var download = await network.ConnectAsync(s_ns, TrafficPurpose.Download, CancellationToken.None);
        var server = await AcceptAsync();

        await download.WriteAsync(new byte[100]);
        await server.SendAsync(new byte[40]);
        var buffer = new byte[100];
        var received = 0;
        while (received < 40)
        {
            received += await download.ReadAsync(buffer.AsMemory(received)).AsTask().WaitAsync(s_deadline);
        }

        var cell = _topology.Counters.Snapshot().Should().ContainSingle(c => c.Adapter == AdapterKind.Vpn).Subject;
        cell.Destination.Should().Be(EndpointClass.Corporate);
        cell.Purpose.Should().Be(TrafficPurpose.Download);
        cell.BytesSent.Should().Be(100);
        cell.BytesReceived.Should().Be(40);
        cell.Connections.Should().Be(1);
        _topology.Counters.VpnBytes(TrafficPurpose.Download).Should().Be(140);
        _topology.OpenSockets.Should().Be(1);

        await download.DisposeAsync();
        ShouldHoldNoSocket(network);
    }

    [Fact]
    public async Task PublicTraffic_NeverLeavesOverTheVpn()
    {
        var network = OnTheInternetWithVpnUp();
        await using var stream = await network.ConnectAsync(s_gateway, TrafficPurpose.Download, CancellationToken.None);
        await stream.WriteAsync(new byte[10]);

        _topology.Counters.VpnBytes().Should().Be(0);
        _topology.Counters.Snapshot().Should().ContainSingle(c => c.Adapter == AdapterKind.WiFi && c.BytesSent == 10);
    }

    [Fact]
    public void Adapters_LookLikeARealLaptop()
    {
        var network = new SimulatedNetwork(_topology, AgentLocation.Internet, _checkPoint, vpnUp: false, addressSeed: 42);

        var adapters = network.GetAdapters();
        adapters.Should().Contain(a => a.Description == "Intel(R) Dual Band Wireless-AC 8265" && a.IsUp && a.Addresses.Count == 1);
        adapters.Should().Contain(a => a.Description == "Check Point Virtual Network Adapter For Endpoint VPN Client" && !a.IsUp);

        network.SetVpn(true);
        network.GetAdapters().Should().Contain(a => a.Description == "Check Point Virtual Network Adapter For Endpoint VPN Client" && a.IsUp && a.Addresses[0].StartsWith("10.1.", StringComparison.Ordinal));

        network.MoveTo(AgentLocation.Office);
        network.GetAdapters().Should().Contain(a => a.Name == "Ethernet" && a.IsUp);
    }

    [Fact]
    public void ChangingLocationOrVpn_RaisesAdaptersChanged()
    {
        var network = new SimulatedNetwork(_topology, AgentLocation.Office, _checkPoint);
        var raised = 0;
        network.AdaptersChanged += (_, _) => raised++;

        network.SetVpn(true).Should().BeTrue();
        network.SetVpn(true).Should().BeFalse();
        network.MoveTo(AgentLocation.Internet).Should().BeTrue();
        network.MoveTo(AgentLocation.Internet).Should().BeFalse();
        network.SetVpn(false).Should().BeTrue();

        raised.Should().Be(3);
        network.Vpn.Should().Be(VpnState.Down);
        network.Location.Should().Be(AgentLocation.Internet);
    }

    [Fact]
    public void SetVpn_WithoutAClient_Throws()
    {
        var network = new SimulatedNetwork(_topology, AgentLocation.Office);
        network.Invoking(n => n.SetVpn(true)).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public async Task DropConnections_BreaksARealLoopbackConnection()
    {
        var network = new SimulatedNetwork(_topology, AgentLocation.Office);
        await using var stream = await network.ConnectAsync(s_ns, TrafficPurpose.Management, CancellationToken.None);
        var server = await AcceptAsync();
        var pendingRead = stream.ReadAsync(new byte[16]).AsTask();

        network.DropConnections().Should().Be(1);

        await AssertBrokenAsync(pendingRead, server);
        ShouldHoldNoSocket(network);
    }

    [Fact]
    public async Task VpnDown_BreaksCorporateSocketsOverTheVpn_ButNotPublicOnes()
    {
        var network = OnTheInternetWithVpnUp();
        await using var corporate = await network.ConnectAsync(s_ns, TrafficPurpose.Management, CancellationToken.None);
        var corporateServer = await AcceptAsync();
        await using var gateway = await network.ConnectAsync(s_gateway, TrafficPurpose.Management, CancellationToken.None);
        var gatewayServer = await AcceptAsync();
        var pendingRead = corporate.ReadAsync(new byte[16]).AsTask();

        network.SetVpn(false);

        await AssertBrokenAsync(pendingRead, corporateServer);
        network.OpenConnections.Should().Be(1);
        await gateway.WriteAsync(new byte[] { 7 });
        var buffer = new byte[1];
        (await gatewayServer.ReceiveAsync(buffer).WaitAsync(s_deadline)).Should().Be(1);
    }

    [Fact]
    public async Task TwoVpnsUp_OneGoesDown_OnlyItsSocketsBreak_AndCorporateTrafficTakesTheOther()
    {
        var cisco = VpnAdapterPresets.Find("cisco-anyconnect")!;
        var network = new SimulatedNetwork(_topology, AgentLocation.Internet, [_checkPoint, cisco], vpnUp: true, addressSeed: 1);
        await using var overCheckPoint = await network.ConnectAsync(s_ns, TrafficPurpose.Management, CancellationToken.None);
        var checkPointServer = await AcceptAsync();
        var pendingRead = overCheckPoint.ReadAsync(new byte[16]).AsTask();

        network.SetVpn(false, "cisco-anyconnect").Should().BeTrue("the second adapter carries nothing yet");
        network.OpenConnections.Should().Be(1, "a socket over Check Point does not break when Cisco AnyConnect goes down");
        network.SetVpn(true, "Cisco AnyConnect Secure Mobility Client Virtual Miniport Adapter for Windows x64").Should().BeTrue("an adapter is found by its description too");
        network.SetVpn(false, "checkpoint").Should().BeTrue();

        await AssertBrokenAsync(pendingRead, checkPointServer);
        network.Vpn.Should().Be(VpnState.Up, "one VPN is still connected");
        network.GetAdapters().Where(a => a.Description.Contains("Check Point", StringComparison.Ordinal)).Should().ContainSingle().Which.IsUp.Should().BeFalse();
        network.GetAdapters().Where(a => a.Description.Contains("Cisco", StringComparison.Ordinal)).Should().ContainSingle().Which.Addresses[0].Should().StartWith("10.2.");
        await using var overCisco = await network.ConnectAsync(s_ns, TrafficPurpose.Management, CancellationToken.None);
        var ciscoServer = await AcceptAsync();
        network.SetVpn(true, "checkpoint").Should().BeTrue();
        network.OpenConnections.Should().Be(1, "Check Point coming back breaks nothing");
        await overCisco.WriteAsync(new byte[] { 7 });
        (await ciscoServer.ReceiveAsync(new byte[1]).WaitAsync(s_deadline)).Should().Be(1);
        network.SetVpn(false, "wireguard").Should().BeFalse("the machine has no such adapter");
    }

    [Fact]
    public async Task GroupCounters_CountTheMachinesTrafficBesideTheTopologys()
    {
        var group = new TrafficCounters();
        var network = new SimulatedNetwork(_topology, AgentLocation.Internet, vpnAdapters: [], vpnUp: false, addressSeed: 3) { GroupCounters = group };
        await using var stream = await network.ConnectAsync(s_gateway, TrafficPurpose.TaskServer, CancellationToken.None);
        await stream.WriteAsync(new byte[25]);
        var unreachable = async () => await network.ConnectAsync(s_ns, TrafficPurpose.Management, CancellationToken.None);
        await unreachable.Should().ThrowAsync<SocketException>();

        group.Snapshot().Should().BeEquivalentTo(_topology.Counters.Snapshot());
        group.Snapshot().Should().Contain(c => c.Adapter == AdapterKind.WiFi && c.Purpose == TrafficPurpose.TaskServer && c.BytesSent == 25 && c.Connections == 1);
        group.Unreachable.Should().Be(1);
    }

    [Fact]
    public async Task Moving_BreaksEverySocket()
    {
        var network = new SimulatedNetwork(_topology, AgentLocation.Office);
        await using var stream = await network.ConnectAsync(s_gateway, TrafficPurpose.Management, CancellationToken.None);
        var server = await AcceptAsync();

        network.MoveTo(AgentLocation.Internet);

        await AssertBrokenAsync(stream.ReadAsync(new byte[1]).AsTask(), server);
    }

    [Fact]
    public async Task SocketLimit_RefusesWithTooManyOpenSockets()
    {
        var topology = new NetworkTopology { MaxOpenSockets = 1 };
        topology.Register("ns.contoso.local", 4443, EndpointClass.Corporate, (IPEndPoint)_listener.LocalEndpoint);
        var network = new SimulatedNetwork(topology, AgentLocation.Office);
        await using var first = await network.ConnectAsync(s_ns, TrafficPurpose.Management, CancellationToken.None);

        var second = async () => await network.ConnectAsync(s_ns, TrafficPurpose.Management, CancellationToken.None);

        (await second.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.TooManyOpenSockets);
        topology.OpenSockets.Should().Be(1);
        topology.PeakOpenSockets.Should().Be(1);
    }

    private SimulatedNetwork OnTheInternetWithVpnUp() => new(_topology, AgentLocation.Internet, _checkPoint, vpnUp: true);

    /// <summary>Neither the agent's network nor the topology holds a socket any more.</summary>
    private void ShouldHoldNoSocket(SimulatedNetwork network)
    {
        network.OpenConnections.Should().Be(0);
        _topology.OpenSockets.Should().Be(0);
    }

    private async Task<Socket> AcceptAsync()
    {
        var socket = await _listener.AcceptSocketAsync().WaitAsync(s_deadline);
        _accepted.Add(socket);
        return socket;
    }

    /// <summary>The agent side fails (or ends) and the server side sees a reset or end of stream, within the deadline.</summary>
    private static async Task AssertBrokenAsync(Task<int> agentRead, Socket server)
    {
        try
        {
            (await agentRead.WaitAsync(s_deadline)).Should().Be(0);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException or OperationCanceledException)
        {
        }

        try
        {
            (await server.ReceiveAsync(new byte[16]).WaitAsync(s_deadline)).Should().Be(0);
        }
        catch (SocketException ex)
        {
            ex.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
        }
    }
}
