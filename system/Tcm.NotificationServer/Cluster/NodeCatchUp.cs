using Microsoft.Extensions.Options;
using Tcm.Channels.Delivery;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Cluster;

/// <summary>
/// The receiving end of <see cref="INodeSignal"/>: pushes another node stored move each agent's next sequence number past them (so an
/// acknowledgement of them counts and this node's own next push does not reuse their numbers), and an agent whose channel this node holds
/// gets them from the store through the delivery engine's catch-up, as after its hello: in order, once.
/// </summary>
internal sealed class NodeCatchUp(AgentDirectory directory, TcmStore store, PushWindow window, IOptions<NotificationServerOptions> options) : INodeSignalReceiver
{
    private readonly bool _shared = ClusterServices.IsShared(options.Value);

    /// <summary>
    /// Before an agent's session starts on this node: with other nodes on the database, its next sequence number moves past every push the
    /// store holds for it. Why: the node that stored the last ones may have died before it signalled them; the session's catch-up would then
    /// stop short of them, and this node would number its next push for the agent with a number already stored.
    /// </summary>
    public async Task BeforeSessionAsync(AgentRecord agent, CancellationToken cancellationToken)
    {
        if (!_shared)
        {
            return;
        }

        var last = store.Query("SELECT MAX(seq) FROM pushes WHERE agent_id=@p0", static r => r.IsDBNull(0) ? 0L : r.GetInt64(0), agent.Id).SingleOrDefault();
        if (last > 0)
        {
            await DeliveryEngine.StoredElsewhereAsync(agent, last, window, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Agents this node does not know are skipped.</remarks>
    public async Task StoredElsewhereAsync(IEnumerable<(string AgentId, long Seq)> pushes, CancellationToken cancellationToken)
    {
        foreach (var (agentId, seq) in pushes)
        {
            if (directory.TryGet(agentId, out var agent))
            {
                await DeliveryEngine.StoredElsewhereAsync(agent, seq, window, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public Task EverythingStoredAsync(CancellationToken cancellationToken) => StoredElsewhereAsync(store.LoadLastPushSeqs(), cancellationToken);
}
