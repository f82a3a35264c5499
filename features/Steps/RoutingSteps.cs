using FluentAssertions;
using Reqnroll;
using Tcm.Features.Drivers;
using Tcm.Protocol.Admin;

namespace Tcm.Features.Steps;

/// <summary>Where an agent's connection goes, in the scenarios' words.</summary>
internal enum RouteOutcome
{
    Direct,
    ConnectedThroughTheGateway,
    OfflineAndRetryingWithBackOff,
}

/// <summary>The connection choice: agent settings (VPN detection, the Prefer CEM settings), VPN changes, and the route each connection takes.</summary>
[Binding]
internal sealed class RoutingSteps(AdminDriver admin, FleetDriver fleet, LabDriver lab)
{
    [Given(@"^agents treat adapters matching ""([^""]+)"" as VPN adapters$")]
    public Task VpnAdapters(string pattern) => admin.ChangeAgentSettingsAsync(s => s with { VpnAdapters = [pattern] });

    [Given(@"^""(Prefer CEM|Prefer CEM if VPN)"" is (on|off)$")]
    [When(@"^""(Prefer CEM|Prefer CEM if VPN)"" is changed to (on|off)$")]
    public Task Prefer(string setting, bool on) =>
        admin.ChangeAgentSettingsAsync(s => setting == "Prefer CEM" ? s with { PreferCem = on } : s with { PreferCemIfVpn = on });

    [StepDefinition(@"^the VPN of ""([^""]+)"" (comes up|goes down)$")]
    public void Vpn(string name, string change) => fleet.SetVpn(name, change == "comes up");

    [Given(@"^""([^""]+)"" has received its policy and was stopped$")]
    public Task Installed(string name) => fleet.InstallAsync(name);

    [When(@"^""([^""]+)"" starts and its VPN comes up while it is starting$")]
    public async Task StartsWhileVpnComesUp(string name)
    {
        await fleet.StartAsync(name);
        fleet.SetVpn(name, true);
    }

    [StepDefinition(@"^within (\S+) ""([^""]+)"" is (Direct|connected through the gateway|offline and retrying with back-off)$")]
    public async Task WithinRoute(TimeSpan within, string name, RouteOutcome route)
    {
        switch (route)
        {
            case RouteOutcome.Direct:
                await fleet.WaitForAsync(name, v => v.Status is { Mode: ConnectionMode.Direct } s && s.TaskServer is null or { Mode: ConnectionMode.Direct }, within, "to connect Direct");
                break;
            case RouteOutcome.ConnectedThroughTheGateway:
                await lab.RequireGatewayAsync();
                await fleet.WaitForAsync(name, v => ThroughTheGateway(v.Status) && v.Status!.TaskServer is null or { Mode: ConnectionMode.Cem }, within, "to connect through the gateway");
                break;
            default:
                var log = fleet.Log(name);
                await fleet.WaitForAsync(
                    name,
                    v => v.Running && v.Status is { Mode: ConnectionMode.Offline } && Retries(log).Count >= 3,
                    within,
                    "to be offline and retrying");
                BackoffCheck.Verify(name, Retries(log), log.Now);
                break;
        }
    }

    [Then(@"^within (\S+) both of ""([^""]+)""'s connections go through the gateway$")]
    public async Task WithinBothThroughTheGateway(TimeSpan within, string name)
    {
        await RequireBothConnectionsAsync();
        await fleet.WaitForAsync(name, v => ThroughTheGateway(v.Status) && ThroughTheGateway(v.Status!.TaskServer), within, "to have both connections through the gateway");
    }

    [Then(@"^both of ""([^""]+)""'s connections go through the gateway$")]
    public Task BothThroughTheGateway(string name) => WithinBothThroughTheGateway(TimeSpan.Zero, name);

    [Given(@"^""([^""]+)"" is started and both of its connections go through the gateway$")]
    public async Task StartedThroughTheGateway(string name)
    {
        await RequireBothConnectionsAsync();
        await fleet.StartAsync(name);
        await WithinBothThroughTheGateway(FleetDriver.DefaultWait, name);
    }

    [Then(@"^""([^""]+)"" never connected to the servers directly$")]
    public async Task NeverDirect(string name)
    {
        await lab.RequireGatewayAsync();
        // Its own log: no direct registration and no direct connection attempt, only gateway ones.
        var direct = fleet.Log(name).Entries.Where(e => e.EventName is "Registering" or "Connecting").ToArray();
        direct.Should().BeEmpty($"\"{name}\" should only ever have called the gateway");
        // The network: no management or Task Server connection reached a server's own address.
        (await fleet.DirectServerConnectionsSinceAsync(fleet.TrafficAtStart)).Should().Be(0, $"\"{name}\" should only ever have connected to the gateway");
    }

    [Then("^no management traffic went over the VPN adapter$")]
    public async Task NoManagementOverVpn()
    {
        var bytes = await fleet.VpnBytesSinceAsync(fleet.TrafficAtStart, Tcm.Agent.Network.TrafficPurpose.Management)
            + await fleet.VpnBytesSinceAsync(fleet.TrafficAtStart, Tcm.Agent.Network.TrafficPurpose.TaskServer);
        bytes.Should().Be(0, "no management or Task Server traffic should have left over a VPN adapter");
    }

    /// <summary>A connection that is up (persistent) and goes through the gateway.</summary>
    private static bool ThroughTheGateway(NetworkStatus? status) => status is { Mode: ConnectionMode.Cem, Transport: TransportKind.Persistent };

    private static IReadOnlyList<AgentLogEntry> Retries(AgentLog log) =>
        [.. log.Entries.Where(e => e.EventName is "RegistrationFailed" or "Backoff")];

    private async Task RequireBothConnectionsAsync()
    {
        await lab.RequireGatewayAsync();
        await lab.RequireTaskServersAsync(1);
    }
}
