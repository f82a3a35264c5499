using Microsoft.Extensions.DependencyInjection;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Cluster;

/// <summary>Which node holds each agent: in the admin API and in the store, from the hello until the channel ends.</summary>
public sealed class AgentNodeTests
{
    [Fact]
    public async Task ConnectedAgent_ShowsItsNode_InTheAdminApiAndTheStore_UntilItsChannelEnds()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, configure: o => o.NodeName = "east-1");
        using var agent = await server.RegisterAgentAsync();
        (await NodeInApiAsync(server, agent.Id)).Should().BeNull("no node holds an agent that never connected");

        var (channel, _) = await agent.ConnectAsync();
        (await NodeInApiAsync(server, agent.Id)).Should().Be("east-1");
        var page = await server.AdminGetAsync("/agents", ProtocolJsonContext.Default.AgentPage);
        page.Items.Should().ContainSingle().Which.Node.Should().Be("east-1");
        await Eventually.WaitAsync(() => NodeInStore(server, agent.Id) == "east-1", "the store records the node");

        await channel.DisposeAsync();
        await Eventually.WaitAsync(() => NodeInApiAsync(server, agent.Id), node => node is null, "the node is cleared once the channel ended");
        await Eventually.WaitAsync(() => NodeInStore(server, agent.Id) is null, "the store forgets the node");
    }

    [Fact]
    public async Task NodeStart_ForgetsTheAgentsItsPreviousRunHeld_AndShowsTheNodesOthersHold()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, configure: o => o.NodeName = "east-1");
        using var mine = await server.RegisterAgentAsync("PC-0001");
        using var theirs = await server.RegisterAgentAsync("PC-0002");
        await server.StopAsync();
        using (var store = server.OpenStore(readOnly: false))
        using (var command = store.CreateCommand())
        {
            command.CommandText = $"UPDATE agents SET node = CASE id WHEN '{mine.Id}' THEN 'east-1' ELSE 'west-1' END";
            command.ExecuteNonQuery();
        }

        await server.StartAsync();

        (await NodeInApiAsync(server, mine.Id)).Should().BeNull("a restarted node holds no connection yet");
        NodeInStore(server, mine.Id).Should().BeNull();
        (await NodeInApiAsync(server, theirs.Id)).Should().Be("west-1");
        NodeInStore(server, theirs.Id).Should().Be("west-1");
    }

    private static async Task<string?> NodeInApiAsync(NotificationServerHost server, string agentId) =>
        (await server.AdminGetAsync($"/agents/{agentId}", ProtocolJsonContext.Default.AgentInfo)).Node;

    private static string? NodeInStore(NotificationServerHost server, string agentId) =>
        server.Services.GetRequiredService<TcmStore>().Query("SELECT node FROM agents WHERE id=@p0", r => r.IsDBNull(0) ? null : r.GetString(0), agentId).Single();
}
