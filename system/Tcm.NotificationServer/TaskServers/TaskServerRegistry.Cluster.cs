using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.TaskServers;

/// <summary>
/// The registry beside the other nodes on the store: a task's acceptance, delivery and cancel are the store's, and a node reads them
/// again when another node tells it of a change (<see cref="LoadTasks"/>, <see cref="CancelHeld"/>). A cancel of a task a Task Server
/// holds waits in the store (<c>ts_tasks.cancelled_at</c>) until that Task Server took it, from whichever node it calls: the node it
/// calls hands it out with its next work, and on its next poll (it processed that work) the cancel leaves the store; a Task Server that
/// reports afresh (a full report, as after moving to another node) gets again every cancel the store keeps for it.
/// </summary>
internal sealed partial class TaskServerRegistry
{
    /// <summary>
    /// Reads the tasks of action <paramref name="actionId"/> again, as another node stored, accepted or delivered them: those still pending
    /// are kept (with the Task Server that accepted them last) or added and offered to the Task Servers this node holds their agents on; the
    /// others are no longer offered. A task this node knows already is not added twice.
    /// </summary>
    public void LoadTasks(string actionId)
    {
        var pending = _ledger.PendingAgents(actionId);
        foreach (var (agentId, list) in _pending)
        {
            if (!pending.Contains(agentId))
            {
                lock (list)
                {
                    list.RemoveAll(t => t.ActionId == actionId);
                }
            }
        }

        var woken = new HashSet<TaskServerState>();
        foreach (var (agentId, payload, acceptedBy) in _store.Query(
            "SELECT agent_id, payload, accepted_by FROM ts_tasks WHERE action_id=@p0 AND cancelled_at IS NULL",
            r => (r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2)),
            actionId))
        {
            if (!pending.Contains(agentId))
            {
                continue;
            }

            var list = _pending.GetOrAdd(agentId, static _ => []);
            lock (list)
            {
                if (list.Find(t => t.ActionId == actionId) is { } known)
                {
                    known.AcceptedBy = acceptedBy ?? known.AcceptedBy;
                    continue;
                }

                list.Add(new PendingTsTask(actionId, TcmStore.Deserialize(payload, ProtocolJsonContext.Default.TaskServerAssignment)) { AcceptedBy = acceptedBy });
            }

            if (HolderOf(agentId) is { } holder && _servers.TryGetValue(holder, out var state))
            {
                state.MarkDirty(agentId);
                woken.Add(state);
            }
        }

        foreach (var state in woken)
        {
            state.Signal.Set();
        }
    }

    /// <summary>
    /// Reads the tasks of every action again (signals were missed, so another node may have stored, accepted or delivered some meanwhile):
    /// each action the store holds tasks of or this node offers, as <see cref="LoadTasks"/> does for one.
    /// </summary>
    public void LoadAllTasks()
    {
        var actions = new HashSet<string>(_store.Query("SELECT DISTINCT action_id FROM ts_tasks", static r => r.GetString(0)), StringComparer.Ordinal);
        foreach (var list in _pending.Values)
        {
            lock (list)
            {
                foreach (var task in list)
                {
                    actions.Add(task.ActionId);
                }
            }
        }

        foreach (var actionId in actions)
        {
            LoadTasks(actionId);
        }
    }

    /// <summary>Tells the other nodes that tasks of these actions were accepted or delivered here: they read them again (<see cref="LoadTasks"/>).</summary>
    public void TellOthers(IEnumerable<string> actionIds)
    {
        if (_nodes.Shared)
        {
            foreach (var actionId in actionIds.Distinct(StringComparer.Ordinal))
            {
                _nodes.Changed(new NodeChange(NodeChangeKind.TaskServerTasks, actionId));
            }
        }
    }

    /// <inheritdoc/>
    int ITaskServerCancel.Store(WriteContext ctx, string actionId, IReadOnlyCollection<string> agentIds, long atMs)
    {
        ctx.Execute("DELETE FROM ts_tasks WHERE action_id=@p0 AND accepted_by IS NULL", actionId);
        var held = 0;
        foreach (var agentId in agentIds)
        {
            held += ctx.Execute("UPDATE ts_tasks SET cancelled_at=@p2 WHERE action_id=@p0 AND agent_id=@p1 AND accepted_by IS NOT NULL", actionId, agentId, atMs);
        }

        return held;
    }

    /// <inheritdoc/>
    void ITaskServerCancel.Committed(string actionId)
    {
        CancelHeld(actionId);
        _nodes.Changed(new NodeChange(NodeChangeKind.TaskServerCancel, actionId));
    }

    /// <summary>
    /// Action <paramref name="actionId"/> was cancelled, here or on another node: none of its tasks is offered again, and each Task Server
    /// online here that holds one of them gets the cancel with its next work. Null: the cancels of every action (signals were missed).
    /// </summary>
    public void CancelHeld(string? actionId)
    {
        if (actionId is null)
        {
            var now = _time.GetUtcNow();
            foreach (var state in _servers.Values.Where(s => IsOnline(s, now)))
            {
                LoadCancels(state);
                state.Signal.Set();
            }

            return;
        }

        foreach (var list in _pending.Values)
        {
            lock (list)
            {
                list.RemoveAll(t => t.ActionId == actionId);
            }
        }

        var at = _time.GetUtcNow();
        foreach (var (agentId, serverId) in _store.Query(
            "SELECT agent_id, accepted_by FROM ts_tasks WHERE action_id=@p0 AND cancelled_at IS NOT NULL", r => (r.GetString(0), r.GetString(1)), actionId))
        {
            if (_servers.TryGetValue(serverId, out var state) && IsOnline(state, at))
            {
                state.Cancel(new TaskServerTaskRef(actionId, agentId));
            }
        }
    }

    /// <summary>The Task Server polls again, so it processed its last work: the cancels that work carried leave the store.</summary>
    public void ConfirmCancels(TaskServerState state)
    {
        var taken = state.TakeSentCancels();
        if (taken.Count == 0)
        {
            return;
        }

        var id = state.Record.Id;
        _store.Writer.Post(
            ctx =>
            {
                foreach (var task in taken)
                {
                    ctx.Defer("UPDATE ts_tasks SET cancelled_at=NULL WHERE action_id=@p0 AND agent_id=@p1 AND accepted_by=@p2", task.ActionId, task.AgentId, id);
                }
            },
            "task server took cancels");
    }

    /// <summary>The Task Server starts afresh with this node: every cancel the store keeps for it goes with its next work.</summary>
    private void LoadCancels(TaskServerState state)
    {
        state.ForgetSentCancels();
        foreach (var task in _store.Query(
            "SELECT action_id, agent_id FROM ts_tasks WHERE accepted_by=@p0 AND cancelled_at IS NOT NULL",
            r => new TaskServerTaskRef(r.GetString(0), r.GetString(1)), state.Record.Id))
        {
            state.Cancel(task);
        }
    }

    /// <summary>
    /// Records in the store that the reporting Task Server holds the agents it lists (<c>ts_holders</c>) and returns those it lists that
    /// another Task Server holds and that are not connected to it: it releases them (a Task Server back after a failure lists the agents
    /// that moved on meanwhile). The others' nodes are told of an agent that moved (<see cref="NodeChangeKind.TaskServerAgent"/>), so the
    /// Task Server it left releases it whichever node it calls. An incremental report is checked only for agents this node did not know
    /// the Task Server to hold.
    /// </summary>
    private async Task<HashSet<string>> ClaimAsync(string serverId, TaskServerReport report, CancellationToken ct)
    {
        var claims = report.Full ? report.Agents : [.. report.Agents.Where(a => _holder.GetValueOrDefault(a.AgentId) != serverId)];
        if (claims.Count == 0)
        {
            return [];
        }

        var (refused, moved) = await _store.Writer.WriteAsync(
            ctx =>
            {
                var refused = new HashSet<string>(StringComparer.Ordinal);
                var moved = new List<string>();
                var holders = HoldersOf(ctx, claims);
                foreach (var agent in claims)
                {
                    var holder = holders(agent.AgentId);
                    if (holder == serverId)
                    {
                        continue;
                    }

                    if (holder is not null && report.Full && !agent.Connected)
                    {
                        refused.Add(agent.AgentId);
                        continue;
                    }

                    ctx.Defer("INSERT INTO ts_holders(agent_id, server_id) VALUES(@p0,@p1) ON CONFLICT(agent_id) DO UPDATE SET server_id=excluded.server_id", agent.AgentId, serverId);
                    if (holder is not null)
                    {
                        moved.Add(agent.AgentId);
                    }
                }

                return (refused, moved);
            },
            ct).ConfigureAwait(false);
        foreach (var agentId in moved)
        {
            _nodes.Changed(new NodeChange(NodeChangeKind.TaskServerAgent, agentId));
        }

        return refused;
    }

    /// <summary>
    /// Inside a write: the Task Server the store says holds each of <paramref name="claims"/>' agents. On PostgreSQL one query for all of
    /// them (a first full report lists thousands, and a query an agent would be a round trip an agent, while the claims' writes are
    /// deferred into one batch); on the SQLite file, in this process, one indexed read an agent.
    /// </summary>
    private static Func<string, string?> HoldersOf(WriteContext ctx, IReadOnlyList<TaskServerAgentState> claims)
    {
        if (!ctx.IsPostgres)
        {
            return agentId => ctx.Query("SELECT server_id FROM ts_holders WHERE agent_id=@p0", static r => r.GetString(0), agentId) is [var holder] ? holder : null;
        }

        // why the cast: the ids are one parameter (an array), not the parameter list.
        var holders = ctx.Query(
            "SELECT agent_id, server_id FROM ts_holders WHERE agent_id = ANY(@p0)",
            static r => (r.GetString(0), r.GetString(1)),
            (object)claims.Select(static c => c.AgentId).ToArray())
            .ToDictionary(static h => h.Item1, static h => h.Item2, StringComparer.Ordinal);
        return holders.GetValueOrDefault;
    }

    /// <summary>The Task Server no longer holds these agents: the store forgets that it did.</summary>
    private void Unclaim(string serverId, IReadOnlyList<string> agentIds)
    {
        if (agentIds.Count == 0)
        {
            return;
        }

        _store.Writer.Post(
            ctx =>
            {
                foreach (var agentId in agentIds)
                {
                    ctx.Defer("DELETE FROM ts_holders WHERE agent_id=@p0 AND server_id=@p1", agentId, serverId);
                }
            },
            "task server removed agents");
    }

    /// <summary>
    /// Agent <paramref name="agentId"/> moved to a Task Server that calls another node: the one it left, if it calls this node, releases
    /// it. Null (signals were missed): every agent's holder is read again, in one query.
    /// </summary>
    public void ReadHolder(string? agentId)
    {
        var holders = agentId is null
            ? _store.Query("SELECT agent_id, server_id FROM ts_holders", static r => (r.GetString(0), r.GetString(1)))
            : _store.Query("SELECT agent_id, server_id FROM ts_holders WHERE agent_id=@p0", static r => (r.GetString(0), r.GetString(1)), agentId);
        foreach (var (agent, holder) in holders)
        {
            if (_holder.GetValueOrDefault(agent) is not { } previous || previous == holder)
            {
                continue;
            }

            _holder[agent] = holder;
            if (_servers.TryGetValue(previous, out var old))
            {
                old.Release(agent);
                _counts.Changed(old);
                Log.AgentMoved(_logger, agent, old.Record.Name, _servers.TryGetValue(holder, out var now) ? now.Record.Name : holder);
            }
        }
    }

    /// <summary>Tells the others once what was posted to the writer before committed (the writer commits in order).</summary>
    private async Task TellOthersAfterAsync(List<string> actionIds)
    {
        try
        {
            await _store.Writer.WriteAsync(static _ => { }, CancellationToken.None).ConfigureAwait(false);
            TellOthers(actionIds);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.TellFailed(_logger, ex);
        }
    }
}
