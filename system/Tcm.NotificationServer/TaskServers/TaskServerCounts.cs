using System.Collections.Concurrent;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.TaskServers;

/// <summary>
/// Each Task Server's counts (agents held, of those connected, online) as every node shows them in <c>GET /tcm/admin/task-servers</c> and
/// lists them in the policy's Task Servers, where the agent's fewest-computers selection reads them.
/// <para>
/// One node alone (the SQLite file): every Task Server calls it, so its memory (<see cref="TaskServerState"/>) is the truth; nothing is
/// written or read here. Nodes sharing the database: a Task Server calls one node at a time, and only that node has its report in memory.
/// That node writes the Task Server's counts to <c>ts_states</c> (one row a Task Server, schema version 10), coalesced: one write takes
/// every Task Server changed since the last one took, and a contact alone is written only once <see cref="ContactWriteInterval"/> passed
/// since the last write, so the row says online while the Task Server keeps polling (a long poll wakes at least once a minute) at the
/// cost of a small write a Task Server every quarter minute. Why counts a Task Server and not a flag an agent (<c>ts_holders</c>): a
/// Task Server's report changes many agents' connections at once, and a row an agent would cost a write an agent.
/// </para>
/// <para>
/// Every node reads all rows with one query at most every <see cref="Freshness"/> (they are one a Task Server), not one a policy: after a
/// change of the configuration every agent's policy is computed again, thousands at once, and each lists every Task Server. A node shows
/// its own memory of a Task Server unless the store heard of it later from another node (it moved there), so the node a Task Server
/// calls shows its counts at once and the others within the freshness and a write.
/// </para>
/// </summary>
internal sealed class TaskServerCounts(TcmStore store, INodeSignal nodes, NodeIdentity node, TimeProvider time)
{
    /// <summary>How long a node uses the rows it read before it reads them again.</summary>
    internal static readonly TimeSpan Freshness = TimeSpan.FromSeconds(2);

    /// <summary>How often a Task Server's contact alone (no count changed) is written: well inside <see cref="OnlineWindow"/> less a long poll.</summary>
    internal static readonly TimeSpan ContactWriteInterval = TimeSpan.FromSeconds(15);

    /// <summary>How long after its last contact a Task Server that does not poll counts as online.</summary>
    internal static readonly TimeSpan OnlineWindow = TimeSpan.FromSeconds(90);

    private readonly ConcurrentDictionary<string, TaskServerState> _changed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _writtenContact = new(StringComparer.Ordinal);
    private readonly Lock _readGate = new();
    private Dictionary<string, StoredCounts> _stored = new(StringComparer.Ordinal);
    private long _readAt = long.MinValue;
    private int _queued;

    /// <summary>The Task Server called this node now (a report or a poll): its contact is written when due.</summary>
    public void Contacted(TaskServerState state)
    {
        state.LastContact = time.GetUtcNow();
        if (nodes.Shared
            && state.LastContact.ToUnixTimeMilliseconds() - _writtenContact.GetValueOrDefault(state.Record.Id) >= (long)ContactWriteInterval.TotalMilliseconds)
        {
            Changed(state);
        }
    }

    /// <summary>The Task Server's counts changed in this node's memory: they are written with the next coalesced write (nodes sharing the database only).</summary>
    public void Changed(TaskServerState state)
    {
        if (!nodes.Shared)
        {
            return;
        }

        _changed[state.Record.Id] = state;
        if (Interlocked.Exchange(ref _queued, 1) == 1)
        {
            return;
        }

        List<StoredCounts>? taken = null;
        store.Writer.Post(
            ctx =>
            {
                // why once: a batch the writer runs again (a conflict with another node's writer) writes what its first run took.
                taken ??= Take();
                foreach (var row in taken)
                {
                    ctx.Defer(
                        "INSERT INTO ts_states(server_id, node, agents, connected, contact_at) VALUES(@p0,@p1,@p2,@p3,@p4) ON CONFLICT(server_id) DO UPDATE SET "
                        + "node=excluded.node, agents=excluded.agents, connected=excluded.connected, contact_at=excluded.contact_at",
                        row.ServerId, row.Node, row.Agents, row.Connected, row.ContactAtMs);
                }
            },
            "task server counts");
    }

    /// <summary>Task Server <paramref name="serverId"/> as this node shows it: its own memory (<paramref name="local"/>) or what the store heard later.</summary>
    public TaskServerCountsView View(string serverId, TaskServerState? local)
    {
        var now = time.GetUtcNow();
        if (StoredLater(serverId, local) is { } stored)
        {
            var contact = DateTimeOffset.FromUnixTimeMilliseconds(stored.ContactAtMs);
            return new TaskServerCountsView(stored.Agents, stored.Connected, now - contact < OnlineWindow, contact, stored.Node);
        }

        if (local is null || local.LastContact == default)
        {
            return new TaskServerCountsView(local?.AgentCount ?? 0, local?.ConnectedCount ?? 0, false, null, null);
        }

        var online = local.Polling > 0 || now - local.LastContact < OnlineWindow;
        return new TaskServerCountsView(local.AgentCount, local.ConnectedCount, online, local.LastContact, node.Name);
    }

    /// <summary>Agents held by Task Server <paramref name="serverId"/> as <see cref="View"/> counts them, for a policy (without counting connected agents, per policy).</summary>
    public int AgentsOf(string serverId, TaskServerState? local) => StoredLater(serverId, local)?.Agents ?? local?.AgentCount ?? 0;

    /// <summary>What the store holds of the Task Server when another node heard of it later than this node (nodes sharing the database only).</summary>
    private StoredCounts? StoredLater(string serverId, TaskServerState? local) =>
        nodes.Shared && Stored().TryGetValue(serverId, out var stored)
        && (local is null || (local.Polling == 0 && stored.ContactAtMs > local.LastContact.ToUnixTimeMilliseconds()))
            ? stored
            : null;

    private Dictionary<string, StoredCounts> Stored()
    {
        lock (_readGate)
        {
            var now = time.GetTimestamp();
            if (_readAt != long.MinValue && time.GetElapsedTime(_readAt, now) < Freshness)
            {
                return _stored;
            }

            _stored = store.Query(
                "SELECT server_id, node, agents, connected, contact_at FROM ts_states",
                static r => new StoredCounts(r.GetString(0), r.GetString(1), (int)r.GetInt64(2), (int)r.GetInt64(3), r.GetInt64(4)))
                .ToDictionary(static s => s.ServerId, StringComparer.Ordinal);
            _readAt = now;
            return _stored;
        }
    }

    private List<StoredCounts> Take()
    {
        // why first: a Task Server changed from here on needs a write of its own, queued by its change.
        Volatile.Write(ref _queued, 0);
        var taken = new List<StoredCounts>(_changed.Count);
        foreach (var id in _changed.Keys)
        {
            if (_changed.TryRemove(id, out var state))
            {
                var contactMs = state.LastContact.ToUnixTimeMilliseconds();
                _writtenContact[id] = contactMs;
                taken.Add(new StoredCounts(id, node.Name, state.AgentCount, state.ConnectedCount, contactMs));
            }
        }

        return taken;
    }

    private sealed record StoredCounts(string ServerId, string Node, int Agents, int Connected, long ContactAtMs);
}

/// <summary>A Task Server's counts as a node shows them, and the node it calls (null: none that this node knows of).</summary>
internal readonly record struct TaskServerCountsView(int Agents, int Connected, bool Online, DateTimeOffset? LastContact, string? Node);
