using Microsoft.Extensions.DependencyInjection;
using Tcm.NotificationServer.Waves;

namespace Tcm.NotificationServer.Tests.Cluster;

/// <summary>
/// What each node keeps in memory from the store follows a change made through the other node's admin API or agent endpoints: two real
/// nodes on one PostgreSQL database (<see cref="PostgresNodes"/>), the change made on node A, its effect seen on node B.
/// </summary>
public sealed class NodeChangeTests : IAsyncLifetime
{
    private PostgresNodes _nodes = null!;

    // why: a short wave lease, so the tests of a driver that dies finish within seconds; the other tests do not notice it.
    public async Task InitializeAsync() => _nodes = await PostgresNodes.StartAsync(services: s => s.AddSingleton(new WaveLease(TimeSpan.FromSeconds(1.5))));

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [PostgresFact]
    public async Task AgentRegisteredOnA_IsKnownToB_ConnectsToB_AndGetsTheSettingsChangedOnA_PushedByB()
    {
        using var registered = await _nodes.A.RegisterAgentAsync("PC-0001", new Dictionary<string, string> { ["site"] = "Berlin" });

        await Eventually.WaitAsync(
            ct => _nodes.B.Admin.GetAsync($"{TcmPaths.Admin}/agents/{registered.Id}", ct), r => r.StatusCode == HttpStatusCode.OK, Eventually.DefaultDeadline, "node B to know the agent node A registered");
        using var agent = _nodes.OnB(registered);
        var (channel, welcome) = await agent.ConnectAsync();
        await using var _ = channel;

        var settings = new TargetedAgentSettings
        {
            Name = "Berlin VPN",
            Settings = new AgentSettings { VpnAdapters = ["*Virtual Network Adapter*"], PreferCemIfVpn = true },
            Targets = new Targets { Rules = [new TargetRule("site", "ber*")] },
        };
        (await _nodes.A.Admin.PostAsJsonAsync($"{TcmPaths.Admin}/agent-settings", settings, ProtocolJsonContext.Default.TargetedAgentSettings)).StatusCode.Should().Be(HttpStatusCode.Created);

        var push = await channel.ReceiveAsync<PolicyPushMessage>();
        push.Policy.Etag.Should().NotBe(welcome.PolicyEtag);
        push.Policy.Settings.PreferCemIfVpn.Should().BeTrue("node B read the settings node A stored and pushed the agent's new policy");
        (await _nodes.B.AdminGetAsync("/agent-settings", ProtocolJsonContext.Default.IReadOnlyListTargetedAgentSettings)).Should().ContainSingle(s => s.Name == "Berlin VPN");

        await _nodes.A.SetTcmEnabledAsync(false);
        await channel.ShouldBeClosedAsync(WebSocketCloseStatus.NormalClosure, CloseReasons.TcmDisabled);
    }

    [PostgresFact]
    public async Task AgentRegisteredOnA_ConnectsToB_AtOnce_BeforeBHeardOfIt()
    {
        using var registered = await _nodes.A.RegisterAgentAsync();
        using var agent = _nodes.OnB(registered);

        var (channel, welcome) = await agent.ConnectAsync();
        await using var _ = channel;

        welcome.Should().NotBeNull("node B reads an agent it does not know from the store on first sight rather than refusing it");
        (await _nodes.B.AdminGetAsync($"/agents/{agent.Id}", ProtocolJsonContext.Default.AgentInfo)).Node.Should().Be("node-b");
    }

    [PostgresFact]
    public async Task AdminKeyAddedOnA_WorksOnB_AndOnceRevokedOnA_IsRefusedByB()
    {
        var created = await _nodes.A.AddAdminKeyAsync("night-shift", AdminRole.Viewer);
        using var onB = _nodes.B.CreateAdminClient(created.Key);

        await Eventually.WaitAsync(ct => onB.GetAsync($"{TcmPaths.Admin}/agents", ct), r => r.StatusCode == HttpStatusCode.OK, Eventually.DefaultDeadline, "node B to accept the key added on node A");

        (await _nodes.A.Admin.DeleteAsync($"{TcmPaths.Admin}/keys/night-shift")).EnsureSuccessStatusCode();
        await Eventually.WaitAsync(ct => onB.GetAsync($"{TcmPaths.Admin}/agents", ct), r => r.StatusCode == HttpStatusCode.Unauthorized, Eventually.DefaultDeadline, "node B to refuse the key revoked on node A");
    }

    [PostgresFact]
    public async Task GatewayCreatedAndRegisteredOnA_IsKnownToB_WhichHonoursTheAgentsItRelays()
    {
        using var registered = await _nodes.A.RegisterAgentAsync();
        using var gateway = await TestGateway.RegisterAsync(_nodes.A);
        await Eventually.WaitAsync(
            ct => _nodes.B.AdminGetAsync("/site-servers", ProtocolJsonContext.Default.IReadOnlyListSiteServerInfo, ct), l => l.Any(s => s.Name == "gw1"), Eventually.DefaultDeadline, "node B to list the gateway created on node A");

        await Eventually.WaitAsync(
            ct => _nodes.B.AdminGetAsync("/site-servers", ProtocolJsonContext.Default.IReadOnlyListSiteServerInfo, ct), l => l.Single(s => s.Name == "gw1").Registered, Eventually.DefaultDeadline, "node B to see the registration");
        using var relay = _nodes.B.CreateClient(gateway.Certificate);
        using var request = new System.Net.Http.HttpRequestMessage(HttpMethod.Get, TcmPaths.Policy);
        request.Headers.Add(SiteServerPaths.ForwardedAgentCertificateHeader, Convert.ToBase64String(registered.Certificate.RawData));
        using var response = await relay.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK, "node B recognises the gateway's certificate, issued on node A, and honours the agent it relays");
    }

    [PostgresFact]
    public async Task WaveRunStartedOnA_AndADiesMidRun_IsFinishedByB_EveryTargetOnce() => await WaveRunTakenOverAsync(kill: true);

    [PostgresFact]
    public async Task WaveRunStartedOnA_AndAStopsMidRun_IsFinishedByB_EveryTargetOnce() => await WaveRunTakenOverAsync(kill: false);

    private async Task WaveRunTakenOverAsync(bool kill)
    {
        var agents = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => _nodes.A.RegisterAgentAsync($"PC-{i:0000}")));
        var created = await _nodes.A.PushTaskAsync(new PushTaskRequest { Command = "echo", Targets = Targets.Everyone, Waves = new WavePlan { Size = 2, EverySeconds = 2 } });
        _nodes.Scalar<string>($"SELECT driver FROM action_wave_plans WHERE action_id='{created.ActionId}'").Should().Be("node-a", "the node that created the action sends its waves");

        // A cancelled stop leaves the lease in the store, as a node that died would; a graceful one gives it up.
        await _nodes.A.StopAsync(new CancellationToken(canceled: kill));

        var status = await Eventually.WaitAsync(
            ct => _nodes.B.GetActionAsync(created.ActionId, ct), s => s.Waves!.State == ActionWaves.Done, TimeSpan.FromSeconds(30), "node B to send the waves node A left");
        status.Waves!.Items.Should().OnlyContain(w => w.StartedAt != null);
        _nodes.Scalar<string>($"SELECT driver FROM action_wave_plans WHERE action_id='{created.ActionId}'").Should().Be("node-b");
        foreach (var agent in agents)
        {
            _nodes.Scalar<long>($"SELECT COUNT(*) FROM pushes WHERE action_id='{created.ActionId}' AND agent_id='{agent.Id}'").Should().Be(1, "each target gets the task once");
            agent.Dispose();
        }
    }
}
