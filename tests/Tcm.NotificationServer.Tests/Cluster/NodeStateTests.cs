using Microsoft.Extensions.DependencyInjection;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Cluster;

/// <summary>
/// What a node learns of an agent or a gateway after its registration reaches the other node through the store and the change signal:
/// two real nodes on one PostgreSQL database (<see cref="PostgresNodes"/>), the report made to node A, seen on node B, and the other way.
/// </summary>
public sealed class NodeStateTests : IAsyncLifetime
{
    private static readonly NetworkStatus CemStatus = new()
    {
        ServerAddress = "ns:4443",
        Mode = ConnectionMode.Cem,
        Availability = "Available via internet gateway",
        Transport = TransportKind.Http,
    };

    private PostgresNodes _nodes = null!;

    public async Task InitializeAsync() => _nodes = await PostgresNodes.StartAsync();

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [PostgresFact]
    public async Task NetworkStatusPostedToA_IsShownByB_InTheAgentAndTheFleet_AndAfterBRestarts()
    {
        using var agent = await _nodes.A.RegisterAgentAsync("PC-0001");
        await KnownToBAsync(agent);

        await PostStatusAsync(agent, CemStatus);

        var info = await Eventually.WaitAsync(
            ct => _nodes.B.GetAgentAsync(agent.Id, ct), i => i.NetworkStatus is not null, Eventually.DefaultDeadline, "node B to show the Network Status posted to node A");
        info.NetworkStatus.Should().BeEquivalentTo(CemStatus);
        info.Mode.Should().Be(ConnectionMode.Cem, "node B has no channel of the agent and reads its mode from the status");
        (await _nodes.B.AdminGetAsync("/fleet", ProtocolJsonContext.Default.FleetSummary)).Cem.Should().Be(1);
        (await _nodes.B.AdminGetAsync($"/agents/{agent.Id}/network-status", ProtocolJsonContext.Default.NetworkStatus)).Should().BeEquivalentTo(CemStatus);

        await _nodes.B.StopAsync();
        await _nodes.B.StartAsync();
        (await _nodes.B.GetAgentAsync(agent.Id)).NetworkStatus.Should().BeEquivalentTo(CemStatus, "the store keeps it");
    }

    [PostgresFact]
    public async Task ABurstOfReportsToA_ReachesB_AsOneNotification_EveryAgentsStatusShown()
    {
        var agents = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => _nodes.A.RegisterAgentAsync($"PC-{i:0000}")));
        foreach (var agent in agents)
        {
            await KnownToBAsync(agent);
        }

        var signalB = (PostgresNodeSignal)_nodes.B.Services.GetRequiredService<INodeSignal>();
        var before = signalB.ChangesReceived;

        // why hold node A's writer: the reports then arrive while a write is queued, as in a burst from a fleet, whatever this machine's speed.
        using var busy = new ManualResetEventSlim();
        var holding = _nodes.A.Services.GetRequiredService<TcmStore>().Writer.WriteAsync(_ => busy.Wait(TimeSpan.FromSeconds(30)));
        await Task.WhenAll(agents.Select(a => PostStatusAsync(a, CemStatus with { Availability = a.Id })));
        busy.Set();
        await holding;

        foreach (var agent in agents)
        {
            await Eventually.WaitAsync(ct => _nodes.B.GetAgentAsync(agent.Id, ct), i => i.NetworkStatus?.Availability == agent.Id, Eventually.DefaultDeadline,
                "node B to show each agent's status");
            agent.Dispose();
        }

        (signalB.ChangesReceived - before).Should().Be(1, "one write stored the burst, and its agents travel in one notification");
    }

    [PostgresFact]
    public async Task ContactWithA_IsShownByB_AsTheAgentsLastContact()
    {
        using var agent = await _nodes.A.RegisterAgentAsync("PC-0001");
        var registered = (await Eventually.WaitAsync(ct => _nodes.B.GetAgentAsync(agent.Id, ct), _ => true, Eventually.DefaultDeadline, "node B to know the agent")).LastContact;

        var calledAt = DateTimeOffset.UtcNow;
        (await agent.Http.GetAsync(TcmPaths.Policy)).EnsureSuccessStatusCode();

        var info = await Eventually.WaitAsync(
            ct => _nodes.B.GetAgentAsync(agent.Id, ct), i => i.LastContact > registered, TimeSpan.FromSeconds(30), "node B to read the contact node A wrote");
        info.LastContact.Should().BeOnOrAfter(calledAt.AddMilliseconds(-5));
    }

    [PostgresFact]
    public async Task RouteOfAHelloToA_IsShownByB_WithTheNode_AndAfterBRestarts()
    {
        using var agent = await _nodes.A.RegisterAgentAsync("PC-0001");
        await KnownToBAsync(agent);

        var (channel, _) = await agent.ConnectAsync(route: "direct via vpn-7");
        await using var held = channel;
        (await _nodes.A.GetAgentAsync(agent.Id)).Route.Should().Be("direct via vpn-7");

        var info = await Eventually.WaitAsync(
            ct => _nodes.B.GetAgentAsync(agent.Id, ct), i => i.Node == "node-a" && i.Route is not null, TimeSpan.FromSeconds(30), "node B to read the node and route node A wrote");
        info.Route.Should().Be("direct via vpn-7", "node A stored it with the node that holds the channel");
        info.Connected.Should().BeFalse("node B holds no channel of the agent");

        await _nodes.B.StopAsync();
        await _nodes.B.StartAsync();
        (await _nodes.B.GetAgentAsync(agent.Id)).Route.Should().Be("direct via vpn-7", "the store keeps it");
    }

    [PostgresFact]
    public async Task DecisionMadeOnA_ReachesTheGatewayPollingB_AtOnce_AndIsAcknowledgedOnce()
    {
        using var gateway = await TestGateway.RegisterAsync(_nodes.A);
        await Eventually.WaitAsync(
            ct => _nodes.B.AdminGetAsync("/gateways", ProtocolJsonContext.Default.IReadOnlyListGatewayView, ct), l => l.Any(g => g.Name == gateway.Name && g.Registered),
            Eventually.DefaultDeadline, "node B to know the gateway registered on node A");
        var held = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        await gateway.ReportAsync(_nodes.B, "gw1.example:8443", held);

        var onA = await Eventually.WaitAsync(ct => gateway.ViewAsync(_nodes.A, ct), v => v.Report?.Held.Count == 1, Eventually.DefaultDeadline, "node A to show the report made to node B");
        (onA.Address, onA.Report!.Held[0].Thumbprint).Should().Be(("gw1.example:8443", held));

        var poll = gateway.PollAsync(_nodes.B, waitSeconds: 30);
        await Eventually.WaitAsync(ct => gateway.ViewAsync(_nodes.A, ct), v => v.Polling, Eventually.DefaultDeadline, "node A to see the poll node B holds");
        var decision = await gateway.DecideAsync(_nodes.A, held, GatewayCertificateAction.Approve);

        var delivered = await poll.WaitAsync(TimeSpan.FromSeconds(10));
        delivered.Should().ContainSingle().Which.Should().Be(decision, "node B delivers node A's decision to the poll it holds, well before the poll's 30 s");
        (await gateway.PollAsync(_nodes.B, waitSeconds: 0, decision.Id)).Should().BeEmpty("the gateway acknowledged it");
        _nodes.Scalar<long>("SELECT COUNT(*) FROM gateway_decisions").Should().Be(0, "the acknowledgement removes it from the store");
        var settled = await Eventually.WaitAsync(
            ct => gateway.ViewAsync(_nodes.A, ct), v => v.PendingDecisions.Count == 0 && !v.Polling, Eventually.DefaultDeadline, "node A to see it acknowledged and the poll ended");
        (await gateway.PollAsync(_nodes.A, waitSeconds: 0)).Should().BeEmpty("no node offers an acknowledged decision again");
        (await gateway.ViewAsync(_nodes.B)).Should().BeEquivalentTo(settled, o => o.Excluding(v => v.Stale), "both nodes list the same");
    }

    [PostgresFact]
    public async Task DecisionMadeOnA_WhileBIsDown_ReachesTheGatewayPollingB_OnceBIsBack()
    {
        using var gateway = await TestGateway.RegisterAsync(_nodes.A);
        var blocked = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        await gateway.ReportAsync(_nodes.A, "gw1.example:8443");
        await _nodes.B.StopAsync();

        var decision = await gateway.DecideAsync(_nodes.A, blocked, GatewayCertificateAction.Block);
        await _nodes.B.StartAsync();

        var onB = await gateway.ViewAsync(_nodes.B);
        onB.PendingDecisions.Should().ContainSingle().Which.Should().Be(decision);
        onB.Report.Should().NotBeNull("node B reads the last report from the store as it starts");
        (await gateway.PollAsync(_nodes.B, waitSeconds: 10)).Should().ContainSingle().Which.Should().Be(decision);
        (await gateway.PollAsync(_nodes.B, waitSeconds: 0, decision.Id)).Should().BeEmpty();
        await Eventually.WaitAsync(ct => gateway.ViewAsync(_nodes.A, ct), v => v.PendingDecisions.Count == 0, Eventually.DefaultDeadline, "node A to see it acknowledged on node B");
    }

    private Task KnownToBAsync(TestAgent agent) =>
        Eventually.WaitAsync(
            ct => _nodes.B.Admin.GetAsync($"{TcmPaths.Admin}/agents/{agent.Id}", ct), r => r.StatusCode == HttpStatusCode.OK, Eventually.DefaultDeadline, "node B to know the agent node A registered");

    private static async Task PostStatusAsync(TestAgent agent, NetworkStatus status)
    {
        using var posted = await agent.Http.PostAsJsonAsync(TcmPaths.Events, new EventBatch { Events = [], NetworkStatus = status }, ProtocolJsonContext.Default.EventBatch);
        posted.StatusCode.Should().Be(HttpStatusCode.NoContent);
    }
}
