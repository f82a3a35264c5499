using System.Net.Http.Json;
using System.Net.WebSockets;
using Tcm.NotificationServer.Tests.Infrastructure;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Tests.Functional;

public sealed class PolicyPushTests
{
    [Fact]
    public async Task TargetedSettingsChange_PushesPolicyToConnectedAgent()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync("PC-0001", new Dictionary<string, string> { ["site"] = "Berlin" });
        var (channel, welcome) = await agent.ConnectAsync();
        await using var _ = channel;

        var settings = new TargetedAgentSettings
        {
            Name = "Berlin VPN",
            Settings = new AgentSettings { VpnAdapters = ["*Virtual Network Adapter*"], PreferCemIfVpn = true },
            Targets = new Targets { Rules = [new TargetRule("site", "ber*")] },
        };
        var response = await server.Admin.PostAsJsonAsync($"{TcmPaths.Admin}/agent-settings", settings, ProtocolJsonContext.Default.TargetedAgentSettings);
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.Created);

        var push = await channel.ReceiveAsync<PolicyPushMessage>();
        push.Seq.Should().Be(1);
        push.Policy.Etag.Should().NotBe(welcome.PolicyEtag);
        push.Policy.Settings.PreferCemIfVpn.Should().BeTrue();
        push.Policy.Settings.VpnAdapters.Should().Equal("*Virtual Network Adapter*");
    }

    [Fact]
    public async Task TcmSwitchedOff_PushesPolicy_ThenClosesTcmDisabled()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();
        var (channel, _) = await agent.ConnectAsync(new Version(2, 0));
        await using var _ = channel;

        await server.SetTcmEnabledAsync(false);

        var (before, status, description) = await channel.WaitForCloseAsync();
        before.OfType<PolicyPushMessage>().Should().ContainSingle().Which.Policy.TcmEnabled.Should().BeFalse();
        status.Should().Be(WebSocketCloseStatus.NormalClosure);
        description.Should().StartWith(CloseReasons.TcmDisabled + ":");
    }

    [Fact]
    public async Task ProfileNoLongerPersistent_PushesPolicy_ThenClosesNotTargeted()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();
        var (channel, _) = await agent.ConnectAsync();
        await using var _ = channel;

        var profile = PolicyDefaults.DefaultProfile with { PersistentConnection = false };
        (await server.Admin.PutAsJsonAsync($"{TcmPaths.Admin}/profiles/default", profile, ProtocolJsonContext.Default.CommunicationProfile)).EnsureSuccessStatusCode();

        var (before, _, description) = await channel.WaitForCloseAsync();
        before.OfType<PolicyPushMessage>().Should().ContainSingle().Which.Policy.Communication.PersistentConnection.Should().BeFalse();
        description.Should().StartWith(CloseReasons.NotTargeted + ":");
    }

    [Fact]
    public async Task PushPolicyAction_ReachesTargets_AndIsDeliveredOnAck()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();
        var (channel, welcome) = await agent.ConnectAsync();
        await using var _ = channel;

        var created = await server.AdminPostAsync("/actions/policy", new PushPolicyRequest { Targets = Targets.Everyone },
            ProtocolJsonContext.Default.PushPolicyRequest, ProtocolJsonContext.Default.ActionCreated);
        var push = await channel.ReceiveAsync<PolicyPushMessage>();
        push.Policy.Etag.Should().Be(welcome.PolicyEtag);
        await channel.SendAsync(new AckMessage { UpToSeq = push.Seq });
        await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Delivered);
    }
}
