using Tcm.Channels.Delivery;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Cluster;

/// <summary>
/// The receiving end of <see cref="INodeSignal"/>: pushes another node stored move each agent's next sequence number past them (so an
/// acknowledgement of them counts and the hand-out over HTTP sees them; the numbers of this node's own pushes come from the store,
/// <see cref="StoreSequences"/>, which this count only lifts), and an agent whose channel this node holds
/// gets them from the store through the delivery engine's catch-up, as after its hello: in order, once.
/// </summary>
internal sealed class NodeCatchUp(AgentDirectory directory, TcmStore store, PushWindow window) : INodeSignalReceiver
{
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
