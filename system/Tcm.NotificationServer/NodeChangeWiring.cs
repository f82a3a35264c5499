using Tcm.NotificationServer.Admin;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Channel;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Gateways;
using Tcm.NotificationServer.Policy;
using Tcm.NotificationServer.SiteServers;
using Tcm.NotificationServer.TaskServers;

namespace Tcm.NotificationServer;

/// <summary>
/// Ties each folder that keeps something of the store in memory to the change signal between nodes (<see cref="NodeChanges"/>): how a
/// change another node committed is read again here, and, for the agent directory (which sits below the cluster), what it tells the
/// others. Here because it spans folders that must not know each other.
/// </summary>
internal static class NodeChangeWiring
{
    public static void WireNodeChanges(this IServiceProvider services)
    {
        var changes = services.GetRequiredService<NodeChanges>();
        var nodes = services.GetRequiredService<INodeSignal>();
        var directory = services.GetRequiredService<AgentDirectory>();
        var policy = services.GetRequiredService<PolicyService>();
        var distributor = services.GetRequiredService<PolicyDistributor>();
        var sites = services.GetRequiredService<SiteServerDirectory>();
        var taskServers = services.GetRequiredService<TaskServerRegistry>();
        var keys = services.GetRequiredService<AdminKeyRing>();
        var gateways = services.GetRequiredService<GatewayRegistry>();

        directory.Committed = id => nodes.Changed(id is null ? new NodeChange(NodeChangeKind.InstallPackages) : new NodeChange(NodeChangeKind.Agent, id));
        directory.StatesCommitted = ids =>
        {
            foreach (var change in AgentStateChange.For(ids))
            {
                nodes.Changed(change);
            }
        };

        // why: agents connected here get the new policy (or lose a channel it no longer allows) as they would on the node that changed it.
        changes.On(NodeChangeKind.Policy, async (_, ct) =>
        {
            taskServers.ReloadSelection();
            await policy.ReloadAsync(ct).ConfigureAwait(false);
            await distributor.DistributeAsync(ct).ConfigureAwait(false);
        });
        changes.On(NodeChangeKind.SiteServer, async (id, ct) =>
        {
            if (sites.Reload(id).Exists(static s => s.Kind == SiteServerKind.TaskServer))
            {
                await taskServers.OnTaskServersChangedAsync(ct).ConfigureAwait(false);
            }
        });
        changes.On(NodeChangeKind.AdminKeys, (_, _) => Sync(keys.Reload));
        changes.On(NodeChangeKind.Agent, (id, ct) => Sync(() => directory.Load(id, out var _)));
        changes.On(NodeChangeKind.InstallPackages, (_, _) => Sync(directory.ReloadPackages));
        changes.On(NodeChangeKind.TaskServerTasks, (id, _) => Sync(() =>
        {
            if (id is null)
            {
                taskServers.LoadAllTasks();
            }
            else
            {
                taskServers.LoadTasks(id);
            }
        }));
        changes.On(NodeChangeKind.TaskServerCancel, (id, _) => Sync(() => taskServers.CancelHeld(id)));
        changes.On(NodeChangeKind.TaskServerAgent, (id, _) => Sync(() => taskServers.ReadHolder(id)));
        changes.On(NodeChangeKind.AgentState, (id, _) => Sync(() => directory.ReloadStates(id is null ? [.. directory.All.Select(static a => a.Id)] : AgentStateChange.Ids(id))));
        changes.On(NodeChangeKind.Gateway, gateways.ReloadAsync);
    }

    private static Task Sync(Action read)
    {
        read();
        return Task.CompletedTask;
    }
}
