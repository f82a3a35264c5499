namespace Tcm.NotificationServer.Tests.Functional;

public sealed class PolicyPushTests
{
    [Fact]
    public async Task TargetedSettingsChange_PushesPolicyToConnectedAgent()
    {
        await using var connected = await ConnectedAgent.StartAsync(attributes: new Dictionary<string, string> { ["site"] = "Berlin" });
        var (server, agent, channel, welcome) = connected;

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
        await using var connected = await ConnectedAgent.StartAsync(new Version(2, 0));
        var (server, agent, channel, _) = connected;

        await server.SetTcmEnabledAsync(false);

        var before = await channel.ShouldBeClosedAsync(WebSocketCloseStatus.NormalClosure, CloseReasons.TcmDisabled);
        before.OfType<PolicyPushMessage>().Should().ContainSingle().Which.Policy.TcmEnabled.Should().BeFalse();
    }

    [Fact]
    public async Task ProfileNoLongerPersistent_PushesPolicy_ThenClosesNotTargeted()
    {
        await using var connected = await ConnectedAgent.StartAsync();
        var (server, agent, channel, _) = connected;

        var profile = PolicyDefaults.DefaultProfile with { PersistentConnection = false };
        (await server.Admin.PutAsJsonAsync($"{TcmPaths.Admin}/profiles/default", profile, ProtocolJsonContext.Default.CommunicationProfile)).EnsureSuccessStatusCode();

        var before = await channel.ShouldBeClosedAsync(status: null, CloseReasons.NotTargeted);
        before.OfType<PolicyPushMessage>().Should().ContainSingle().Which.Policy.Communication.PersistentConnection.Should().BeFalse();
    }

    [Fact]
    public async Task PushPolicyAction_ReachesTargets_AndIsDeliveredOnAck()
    {
        await using var connected = await ConnectedAgent.StartAsync();
        var (server, agent, channel, welcome) = connected;

        var created = await server.PushPolicyAsync(Targets.Everyone);
        var push = await channel.ReceiveAsync<PolicyPushMessage>();
        push.Policy.Etag.Should().Be(welcome.PolicyEtag);
        await channel.SendAsync(new AckMessage { UpToSeq = push.Seq });
        await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Delivered);
    }
}
