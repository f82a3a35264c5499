using System.Collections.Concurrent;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Agents;

/// <summary>
/// Writes what agents report after their registration (their Network Status) coalesced: one write takes every agent changed since the
/// last one took, so a burst of reports from a fleet is a few writes, and the agents it stored are told on in one batch
/// (<see cref="Committed"/>), which the other nodes sharing the store hear as a few lines.
/// </summary>
internal sealed class AgentStateWriter(TcmStore store)
{
    private readonly ConcurrentDictionary<string, AgentRecord> _changed = new(StringComparer.Ordinal);
    private int _queued;

    /// <summary>Told, once committed, of the agents a write stored (never empty).</summary>
    public Action<IReadOnlyList<string>>? Committed { get; set; }

    /// <summary>The agent's Network Status changed in memory: it is written with the next coalesced write.</summary>
    public void Changed(AgentRecord agent)
    {
        _changed[agent.Id] = agent;
        if (Interlocked.Exchange(ref _queued, 1) == 1)
        {
            return;
        }

        List<(string Id, string? Status)>? taken = null;
        store.Writer.Post(
            ctx =>
            {
                // why once: a batch the writer runs again (a conflict with another node's writer) writes what its first run took.
                taken ??= Take();
                foreach (var (id, status) in taken)
                {
                    ctx.Execute("UPDATE agents SET network_status=@p1 WHERE id=@p0", id, status);
                }
            },
            "network status",
            () =>
            {
                if (taken is { Count: > 0 })
                {
                    Committed?.Invoke(taken.ConvertAll(static t => t.Id));
                }
            });
    }

    private List<(string Id, string? Status)> Take()
    {
        // why first: an agent changed from here on needs a write of its own, queued by its change.
        Volatile.Write(ref _queued, 0);
        var taken = new List<(string Id, string? Status)>(_changed.Count);
        foreach (var id in _changed.Keys)
        {
            if (_changed.TryRemove(id, out var agent))
            {
                taken.Add((id, agent.NetworkStatus is { } status ? TcmStore.Serialize(status, ProtocolJsonContext.Default.NetworkStatus) : null));
            }
        }

        return taken;
    }
}
