using Tcm.Agent.Network;
using Tcm.Lab.Packages;

namespace Tcm.Functional.Tests;

/// <summary>
/// The support article "Prefer CEM connection if connected to VPN", end to end: a real NS, a real TS, a real gateway and a package
/// server on 127.0.0.1, and a real agent on a <see cref="TestNetwork"/> whose VPN adapter and location the test changes.
/// </summary>
public sealed class RoutingTests(ITestOutputHelper output) : SiteTest(output)
{
    private const long PackageBytes = 256 * 1024;

    [Fact]
    public async Task Article_VpnUpBeforeStart_VpnDown_VpnUpAgain_StaysCem_AndPackagesNeverTakeTheVpn()
    {
        await ConfigureAsync(new AgentSettings { VpnAdapters = ["Check Point*"], PreferCemIfVpn = true });

        // 1. VPN connected before the agent starts: CEM, for the NS and the TS connection alike.
        Laptop.SetVpn(true);
        var agent = await StartAgentAsync("PC-VPN");
        await WaitForBothAsync(agent, ConnectionMode.Cem, "both connections persistent through the gateway");
        var status = agent.GetNetworkStatus();
        status.Availability.Should().Be("Available via internet gateway");
        status.CemState.Should().Be("Cloud-enabled Management mode is active");
        status.GatewayTlsProtocol.Should().NotBeNull();
        status.RouteReason.Should().Contain("if VPN connection is established");
        status.TaskServer!.Mode.Should().Be(ConnectionMode.Cem);
        var afterStart = Laptop.ConnectionsOver(TestNetwork.Vpn, TrafficPurpose.Management, TrafficPurpose.TaskServer);
        afterStart.Should().BeLessThanOrEqualTo(1, "only the registration (before there was a policy) went directly");
        (await Ns.GetAgentAsync(agent.AgentId!)).Route.Should().StartWith("cem via");

        // 2. VPN shut down: CEM (the NS is not reachable directly).
        Laptop.SetVpn(false);
        await Eventually.WaitAsync(() => agent.RoutePlan, p => p.Reason.Contains("not reachable directly", StringComparison.Ordinal), Deadline, "the decision without VPN");
        await WaitForBothAsync(agent, ConnectionMode.Cem, "still CEM without VPN");

        // 3. Back on VPN: stays CEM, and a package downloads over the internet, not over the VPN.
        Laptop.SetVpn(true);
        await Eventually.WaitAsync(() => agent.RoutePlan, p => p.Reason.Contains("VPN adapter", StringComparison.Ordinal), Deadline, "the decision with VPN again");
        await WaitForBothAsync(agent, ConnectionMode.Cem, "still CEM with VPN again");
        var package = Packages.Publish("office-patch", PackageBytes, [new(CodebaseKind.Unc), new(CodebaseKind.Http), new(CodebaseKind.Https)]);
        var result = await agent.DownloadPackageAsync(package, CancellationToken.None);

        result.Succeeded.Should().BeTrue(string.Join("; ", result.Notes));
        result.Codebase!.Kind.Should().Be(CodebaseKind.Https, "fix #2: HTTPS over UNC and HTTP while CEM is preferred");
        result.ThroughGateway.Should().BeTrue();
        result.Bytes.Should().Be(PackageBytes);
        Laptop.BytesOver(TestNetwork.Vpn, TrafficPurpose.Download).Should().Be(0, "no package downloads over the VPN");
        Laptop.BytesOver(TestNetwork.WiFi, TrafficPurpose.Download).Should().BeGreaterThan(PackageBytes);
        Laptop.ConnectionsOver(TestNetwork.Vpn, TrafficPurpose.Management, TrafficPurpose.TaskServer).Should().Be(afterStart, "no management connection took the VPN");
    }

    [Fact]
    public async Task VpnAdapterAppearingDuringStartUp_NoConnectionLeavesDirect()
    {
        await ConfigureAsync(new AgentSettings { VpnAdapters = [TestNetwork.VpnDescription], PreferCemIfVpn = true });
        // On the internet without VPN: the agent registers through the gateway (package CEM settings); the VPN comes up while the
        // agent checks the server's reachability after registration, before any persistent connection.
        var fired = 0;
        Laptop.BeforeProbe = n =>
        {
            if (n == 2 && Interlocked.Exchange(ref fired, 1) == 0)
            {
                Laptop.SetVpn(true);
            }
        };

        var agent = await StartAgentAsync("PC-RACE");
        await WaitForBothAsync(agent, ConnectionMode.Cem, "both connections through the gateway");

        fired.Should().Be(1, "the VPN came up during start-up");
        Laptop.ConnectionsOver(TestNetwork.Vpn, TrafficPurpose.Management, TrafficPurpose.TaskServer).Should().Be(0, "fix #1: no connection left directly");
        agent.RoutePlan.Reason.Should().Contain("VPN adapter");
    }

    [Fact]
    public async Task SettingsChangedByPolicyWhileConnected_BothConnectionsSwitchWithoutRestart()
    {
        var settingsId = await ConfigureAsync(new AgentSettings());
        Laptop.SetOffice(true);
        var agent = await StartAgentAsync("PC-OFFICE");
        await WaitForBothAsync(agent, ConnectionMode.Direct, "both connections direct in the office");

        var response = await Ns.Admin.PutAsJsonAsync($"{TcmPaths.Admin}/agent-settings/{settingsId}",
            new TargetedAgentSettings { Id = settingsId, Name = "routing", Priority = 1, Settings = new AgentSettings { PreferCem = true } },
            ProtocolJsonContext.Default.TargetedAgentSettings);
        response.EnsureSuccessStatusCode();

        await WaitForBothAsync(agent, ConnectionMode.Cem, "both connections moved to the gateway");
        agent.GetNetworkStatus().RouteReason.Should().Contain("'Prefer CEM gateway connection' is set");
    }

    [Fact]
    public async Task PreferCem_WithInvalidCemSettings_StaysDirect_AndSaysWhy()
    {
        await ConfigureAsync(new AgentSettings { PreferCem = true }, new CemSettings { GatewayAddress = Gateway.Info.HostAndPort, Enabled = false });
        Laptop.SetOffice(true);
        var agent = await StartAgentAsync("PC-BADCEM");
        await WaitForBothAsync(agent, ConnectionMode.Direct, "both connections direct");

        agent.GetNetworkStatus().RouteReason.Should().Contain("'Prefer CEM gateway connection' is set but the CEM settings are invalid: the CEM settings are switched off");
    }

    private async Task<string> ConfigureAsync(AgentSettings settings, CemSettings? cem = null)
    {
        var profile = await Ns.GetDefaultProfileAsync();
        await Ns.PutProfileAsync(profile with { Cem = cem ?? new CemSettings { GatewayAddress = Gateway.Info.HostAndPort } });
        var response = await Ns.Admin.PostAsJsonAsync($"{TcmPaths.Admin}/agent-settings",
            new TargetedAgentSettings { Name = "routing", Priority = 1, Settings = settings }, ProtocolJsonContext.Default.TargetedAgentSettings);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.TargetedAgentSettings))!.Id;
    }

    private async Task<TcmAgent> StartAgentAsync(string computerName)
    {
        // The package is built from the default profile, so it carries the profile's CEM settings (as a real install package does):
        // an agent that starts on the internet registers through the gateway.
        var profile = await Ns.GetDefaultProfileAsync();
        var package = await Ns.Info.CreateInstallPackageAsync(profile.Id);
        var options = RealAgents.Options(package, computerName) with { ProbeTimeout = TimeSpan.FromSeconds(2) };
        return await StartAgentAsync(options, Laptop);
    }

    private static Task WaitForBothAsync(TcmAgent agent, ConnectionMode mode, string what) =>
        WaitForStatusAsync(agent,
            s => s.Mode == mode && s.Transport == TransportKind.Persistent && s.TaskServer is { Transport: TransportKind.Persistent } ts && ts.Mode == mode,
            what);
}
