using Microsoft.Extensions.Hosting;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Cluster;

/// <summary>
/// Which node holds which agent, as far as this node can tell. At start, the store forgets this node's name on every agent (connections
/// a previous run of the node held are gone); with other nodes on the database (<see cref="INodeSignal.Shared"/>) it reads every
/// <see cref="RefreshInterval"/> which node holds each agent this node does not (and the route of the agent's hello there), and when the
/// agents were last heard of, for the admin API and console. It runs the node signal for the node's life.
/// </summary>
internal sealed class NodePresence(AgentDirectory directory, TcmStore store, NodeIdentity node, INodeSignal signal, TimeProvider time) : BackgroundService
{
    /// <summary>How often a node reads the others' agents from the store.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    /// <summary>How far back a refresh reads the agents' last contacts.</summary>
    private static readonly TimeSpan ContactLookBack = TimeSpan.FromMinutes(1);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.Writer.WriteAsync(ctx => ctx.Execute("UPDATE agents SET node=NULL WHERE node=@p0", node.Name), cancellationToken).ConfigureAwait(false);
        foreach (var agent in directory.All)
        {
            agent.SeenOn(node.Name, null);
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        signal.Shared ? Task.WhenAll(signal.RunAsync(stoppingToken), RefreshAsync(stoppingToken)) : signal.RunAsync(stoppingToken);

    private async Task RefreshAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Refresh();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One read of the store: every agent this node does not hold gets the node the store names, or none, and the route its hello reported
    /// there; every agent heard of lately takes its last contact from the store when another node heard of it later.
    /// </summary>
    internal void Refresh()
    {
        // why a minute back: a node writes its contacts every few seconds, and the nodes' clocks may differ a little.
        var since = time.GetUtcNow().Subtract(ContactLookBack).ToUnixTimeMilliseconds();
        var rows = store.LoadAgentPresence(since);
        var holders = new Dictionary<string, (string Node, string? Route)>(rows.Count, StringComparer.Ordinal);
        foreach (var (agentId, holder, lastContactMs, route) in rows)
        {
            if (holder is not null)
            {
                holders[agentId] = (holder, route);
            }

            if (lastContactMs is { } ms && directory.TryGet(agentId, out var known))
            {
                known.SeenContact(ms);
            }
        }

        foreach (var agent in directory.All)
        {
            var seen = agent.Node;
            if (!string.Equals(seen, node.Name, StringComparison.Ordinal))
            {
                // why: the store naming this node for an agent it does not hold is this node's own give-up, not written yet.
                var held = holders.TryGetValue(agent.Id, out var h) && !string.Equals(h.Node, node.Name, StringComparison.Ordinal);
                agent.SeenOn(seen, held ? h.Node : null);
                if (held && h.Route is { } route && !string.Equals(route, agent.Route, StringComparison.Ordinal))
                {
                    agent.Route = route;
                }
            }
        }
    }
}
