using System.Collections.Concurrent;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Channel;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Policy;
using Tcm.NotificationServer.SiteServers;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.TaskServers;

/// <summary>
/// What the NS knows about its Task Servers: which agents each holds (from their reports), the tasks for agents that are not yet
/// delivered (table <c>ts_tasks</c>, offered to the Task Server holding the agent until it accepts them), and the selection settings
/// that make <see cref="PolicyDocument.TaskServers"/>.
/// <para>
/// An agent is held by the Task Server that reported it last. When it moves (fail-over), its undelivered tasks are offered to the new
/// Task Server and the old one is told to release it; agents and Task Servers deduplicate by task id, so an offer that arrives twice
/// is harmless.
/// </para>
/// <para>
/// With other nodes on the store, each holds the Task Servers that call it: tasks stored here and a changed selection are told to the
/// others (<see cref="NodeChangeKind.TaskServerTasks"/>, <see cref="NodeChangeKind.Policy"/>), which read them (<see cref="LoadTasks"/>,
/// <see cref="ReloadSelection"/>) and offer the tasks to the Task Servers they hold.
/// </para>
/// </summary>
internal sealed partial class TaskServerRegistry
{
    private const string SelectionKey = "task-server-selection";
    private static readonly TimeSpan OnlineWindow = TimeSpan.FromSeconds(90);

    private readonly TcmStore _store;
    private readonly ActionLedger _ledger;
    private readonly SiteServerDirectory _sites;
    private readonly PolicyService _policy;
    private readonly PolicyDistributor _distributor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly INodeSignal _nodes;
    private readonly ConcurrentDictionary<string, TaskServerState> _servers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _holder = new(StringComparer.Ordinal);
    // Undelivered tasks per agent; guarded by locking the list.
    private readonly ConcurrentDictionary<string, List<PendingTsTask>> _pending = new(StringComparer.Ordinal);
    private volatile TaskServerSelectionSettings _selection;

    public TaskServerRegistry(TcmStore store, ActionLedger ledger, SiteServerDirectory sites, PolicyService policy, PolicyDistributor distributor, TimeProvider time, ILogger<TaskServerRegistry> logger,
        ActionCancellation cancellation, INodeSignal nodes)
    {
        _nodes = nodes;
        _store = store;
        _ledger = ledger;
        _sites = sites;
        _policy = policy;
        _distributor = distributor;
        _time = time;
        _logger = logger;
        _selection = new TaskServerSelectionSettings();
        ReloadSelection();
        var pending = ledger.PendingTargets(TaskServerActionKinds.TsTask);
        foreach (var (actionId, agentId, payload, acceptedBy) in store.Query(
            "SELECT action_id, agent_id, payload, accepted_by FROM ts_tasks",
            r => (r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3))))
        {
            if (!pending.Contains((actionId, agentId)))
            {
                continue;
            }

            var assignment = TcmStore.Deserialize(payload, ProtocolJsonContext.Default.TaskServerAssignment);
            _pending.GetOrAdd(agentId, static _ => []).Add(new PendingTsTask(actionId, assignment) { AcceptedBy = acceptedBy });
        }

        policy.TaskServerSource = PolicyFor;
        cancellation.TaskServerCancel = Cancel;
        sites.Registered = record => record.Kind == SiteServerKind.TaskServer ? OnTaskServersChangedAsync() : Task.CompletedTask;
    }

    /// <summary>Reads the selection settings from the store again (another node changed them); the caller recomputes the policies.</summary>
    public void ReloadSelection()
    {
        if (_store.GetSetting(SelectionKey) is { } json)
        {
            _selection = TcmStore.Deserialize(json, ProtocolJsonContext.Default.TaskServerSelectionSettings);
        }
    }

    /// <summary>
    /// Reads the tasks of action <paramref name="actionId"/> another node stored and offers them to the Task Servers this node holds their
    /// agents on. A task this node knows already is not added twice.
    /// </summary>
    public void LoadTasks(string actionId)
    {
        var woken = new HashSet<TaskServerState>();
        foreach (var (agentId, payload, acceptedBy) in _store.Query(
            "SELECT agent_id, payload, accepted_by FROM ts_tasks WHERE action_id=@p0",
            r => (r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2)),
            actionId))
        {
            var list = _pending.GetOrAdd(agentId, static _ => []);
            lock (list)
            {
                if (list.Exists(t => t.ActionId == actionId))
                {
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

    /// <summary>The selection method and ordered lists.</summary>
    public TaskServerSelectionSettings Selection => _selection;

    /// <summary>The runtime state of a Task Server, created on first contact.</summary>
    public TaskServerState Get(SiteServerRecord record) => _servers.GetOrAdd(record.Id, _ => new TaskServerState(record));

    /// <summary>The Task Server holding an agent, if any.</summary>
    public string? HolderOf(string agentId) => _holder.GetValueOrDefault(agentId);

    /// <summary>Every registered Task Server with its counts.</summary>
    public IReadOnlyList<TaskServerInfoView> List()
    {
        var now = _time.GetUtcNow();
        return [.. _sites.All.Where(s => s.Kind == SiteServerKind.TaskServer && s.Thumbprint is not null).Select(s =>
        {
            var state = _servers.GetValueOrDefault(s.Id);
            return new TaskServerInfoView
            {
                Id = s.Id,
                Name = s.Name,
                Address = s.Address,
                Site = s.Site,
                MaxAgents = s.MaxAgents,
                RegisteredAgents = state?.AgentCount ?? 0,
                ConnectedAgents = state?.ConnectedCount ?? 0,
                Online = state is not null && (state.Polling > 0 || now - state.LastContact < OnlineWindow),
                LastContact = state?.LastContact == default ? null : state?.LastContact,
            };
        })];
    }

    /// <summary>Applies a Task Server's report of the agents it holds.</summary>
    public async Task ReportAsync(SiteServerRecord record, TaskServerReport report, CancellationToken ct = default)
    {
        var state = Get(record);
        state.LastContact = _time.GetUtcNow();
        var addressChanged = report.Address is { Length: > 0 } address && address != record.Address;
        _sites.UpdateAddress(record, report.Address is { Length: > 0 } ? report.Address : null, report.MaxAgents);
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var agent in report.Agents)
        {
            listed.Add(agent.AgentId);
            state.SetAgent(agent.AgentId, agent.Connected);
            var previous = _holder.GetValueOrDefault(agent.AgentId);
            _holder[agent.AgentId] = record.Id;
            if (previous is not null && previous != record.Id && _servers.TryGetValue(previous, out var old))
            {
                old.Release(agent.AgentId);
                Log.AgentMoved(_logger, agent.AgentId, old.Record.Name, record.Name);
            }

            if (previous != record.Id || report.Full)
            {
                state.MarkDirty(agent.AgentId);
            }
        }

        var removed = report.Full ? state.AgentIds.Where(id => !listed.Contains(id)).ToList() : report.Removed;
        foreach (var agentId in removed)
        {
            state.RemoveAgent(agentId);
            _holder.TryRemove(KeyValuePair.Create(agentId, record.Id));
        }

        state.Signal.Set();
        if (addressChanged)
        {
            // why: the address write is queued before the recomputation's, so it committed before the others are told.
            await OnTaskServersChangedAsync(ct).ConfigureAwait(false);
            _nodes.Changed(new NodeChange(NodeChangeKind.SiteServer, record.Id));
        }
    }

    /// <summary>Tasks to offer to a Task Server now (for agents it holds, not yet accepted by it), and agents it must release.</summary>
    public TaskServerWork TakeWork(TaskServerState state)
    {
        var tasks = new List<TaskServerAssignment>();
        foreach (var agentId in state.DirtyAgents())
        {
            var offered = false;
            if (HolderOf(agentId) == state.Record.Id && _pending.TryGetValue(agentId, out var list))
            {
                lock (list)
                {
                    foreach (var task in list)
                    {
                        if (task.AcceptedBy != state.Record.Id)
                        {
                            tasks.Add(task.Assignment);
                            offered = true;
                        }
                    }
                }
            }

            if (!offered)
            {
                state.ClearDirty(agentId);
            }
        }

        return new TaskServerWork { Tasks = tasks, Released = state.TakeReleased(), Cancelled = state.TakeCancelled() };
    }

    /// <summary>Stores the tasks of a new action for its targets and wakes the Task Servers that hold them; returns how many were handed to an online Task Server.</summary>
    public async Task<int> AddTasksAsync(
        string actionId, IReadOnlyList<AgentRecord> agents, Func<AgentRecord, TaskServerAssignment> build, string requestJson, CancellationToken ct = default)
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var items = agents.Select(a => (Agent: a, Assignment: build(a))).ToList();
        await _store.Writer.WriteAsync(ctx =>
        {
            _ledger.Create(ctx, new NewAction(actionId, TaskServerActionKinds.TsTask, requestJson, items.Count > 0 ? items[0].Assignment.NotAfter : null), nowMs, items.Select(i => i.Agent.Id));
            foreach (var (agent, assignment) in items)
            {
                ctx.Execute("INSERT INTO ts_tasks(action_id, agent_id, payload) VALUES(@p0,@p1,@p2)", actionId, agent.Id,
                    TcmStore.Serialize(assignment, ProtocolJsonContext.Default.TaskServerAssignment));
            }
        }, ct).ConfigureAwait(false);

        var handed = 0;
        var now = _time.GetUtcNow();
        var woken = new HashSet<TaskServerState>();
        foreach (var (agent, assignment) in items)
        {
            var list = _pending.GetOrAdd(agent.Id, static _ => []);
            lock (list)
            {
                list.Add(new PendingTsTask(actionId, assignment));
            }

            if (HolderOf(agent.Id) is { } holder && _servers.TryGetValue(holder, out var state))
            {
                state.MarkDirty(agent.Id);
                woken.Add(state);
                if (state.Polling > 0 || now - state.LastContact < OnlineWindow)
                {
                    handed++;
                }
            }
        }

        foreach (var state in woken)
        {
            state.Signal.Set();
        }

        _nodes.Changed(new NodeChange(NodeChangeKind.TaskServerTasks, actionId));
        Log.TasksAdded(_logger, actionId, items.Count, handed);
        return handed;
    }

    /// <summary>The Task Server stored these tasks: stop offering them to it.</summary>
    public void Accept(TaskServerState state, IReadOnlyList<TaskServerTaskRef> items)
    {
        foreach (var item in items)
        {
            if (_pending.TryGetValue(item.AgentId, out var list))
            {
                lock (list)
                {
                    foreach (var task in list)
                    {
                        if (task.ActionId == item.ActionId)
                        {
                            task.AcceptedBy = state.Record.Id;
                        }
                    }
                }
            }
        }

        var id = state.Record.Id;
        _store.Writer.Post(
            ctx =>
            {
                foreach (var item in items)
                {
                    ctx.Execute("UPDATE ts_tasks SET accepted_by=@p2 WHERE action_id=@p0 AND agent_id=@p1", item.ActionId, item.AgentId, id);
                }
            },
            "task server accepted");
    }

    /// <summary>Task states from a Task Server: delivered (the agent acknowledged the push) and running.</summary>
    public void RecordStatus(IReadOnlyList<TaskServerStatusItem> items)
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var item in items)
        {
            if (item.State is TaskState.Delivered or TaskState.Running or TaskState.Succeeded or TaskState.Failed or TaskState.TimedOut)
            {
                Forget(item.AgentId, item.TaskId);
            }
        }

        _ledger.Post(
            [.. items.Select(item => new TargetProgress(item.TaskId, item.AgentId, item.State, item.Via ?? DeliveryService.ViaPersistent,
                item.At == default ? nowMs : item.At.ToUnixTimeMilliseconds()))],
            "task server status");
    }

    /// <summary>A final result arrived: the task is no longer offered to anyone.</summary>
    public void Forget(string agentId, string taskId)
    {
        if (_pending.TryGetValue(agentId, out var list))
        {
            lock (list)
            {
                list.RemoveAll(t => t.ActionId == taskId);
            }
        }
    }

    /// <summary>
    /// An administrator cancelled the action: of its tasks for these agents (targets not finished), one no Task Server accepted yet is
    /// withdrawn (never offered again, not even after a restart); one a Task Server holds is cancelled there with its next work (in
    /// memory: a cancel not taken before the NS stops is lost). Returns how many went to a Task Server.
    /// </summary>
    public int Cancel(string actionId, IReadOnlyList<string> agentIds)
    {
        var withdrawn = new List<string>();
        var forwarded = 0;
        foreach (var agentId in agentIds)
        {
            var waiting = 0;
            if (_pending.TryGetValue(agentId, out var list))
            {
                lock (list)
                {
                    waiting = list.RemoveAll(t => t.ActionId == actionId && t.AcceptedBy is null);
                }
            }

            if (waiting > 0)
            {
                withdrawn.Add(agentId);
            }
            else if (HolderOf(agentId) is { } holder && _servers.TryGetValue(holder, out var state))
            {
                state.Cancel(new TaskServerTaskRef(actionId, agentId));
                forwarded++;
            }
        }

        if (withdrawn.Count > 0)
        {
            _store.Writer.Post(
                ctx =>
                {
                    foreach (var agentId in withdrawn)
                    {
                        ctx.Execute("DELETE FROM ts_tasks WHERE action_id=@p0 AND agent_id=@p1 AND accepted_by IS NULL", actionId, agentId);
                    }
                },
                "cancelled tasks withdrawn");
        }

        return forwarded;
    }

    /// <summary>Changes the selection settings; every policy is computed again (and pushed to connected agents by the caller).</summary>
    public async Task SetSelectionAsync(TaskServerSelectionSettings selection, CancellationToken ct = default)
    {
        await _store.Writer.WriteAsync(ctx => ctx.Execute("INSERT INTO settings(key, value) VALUES(@p0,@p1) ON CONFLICT(key) DO UPDATE SET value=excluded.value", SelectionKey,
            TcmStore.Serialize(selection, ProtocolJsonContext.Default.TaskServerSelectionSettings)), ct).ConfigureAwait(false);
        _selection = selection;
        await _policy.InvalidateAsync(ct).ConfigureAwait(false);
        _nodes.Changed(new NodeChange(NodeChangeKind.Policy));
    }

    /// <summary>A Task Server registered or moved: policies list it from now on, and connected agents get theirs at once.</summary>
    public async Task OnTaskServersChangedAsync(CancellationToken ct = default)
    {
        await _policy.InvalidateAsync(ct).ConfigureAwait(false);
        await _distributor.DistributeAsync(ct).ConfigureAwait(false);
    }

    /// <summary><see cref="PolicyDocument.TaskServers"/> of an agent: every registered Task Server, ordered for an ordered list by the agent's site.</summary>
    private TaskServerPolicy? PolicyFor(AgentRecord agent)
    {
        var servers = _sites.All.Where(s => s.Kind == SiteServerKind.TaskServer && s.Thumbprint is not null && s.Address is not null).ToList();
        if (servers.Count == 0)
        {
            return null;
        }

        var selection = _selection;
        if (selection.Selection == TaskServerSelection.OrderedList)
        {
            var site = agent.GetAttribute("site");
            var order = (site is not null ? selection.OrderedBySite.FirstOrDefault(p => string.Equals(p.Key, site, StringComparison.OrdinalIgnoreCase)).Value : null)
                ?? selection.OrderedBySite.GetValueOrDefault("*")
                ?? [];
            servers = [.. servers.OrderBy(s =>
            {
                var index = order.ToList().FindIndex(o => o == s.Id || string.Equals(o, s.Name, StringComparison.OrdinalIgnoreCase));
                return index < 0 ? int.MaxValue : index;
            }).ThenBy(s => s.Name, StringComparer.Ordinal)];
        }

        return new TaskServerPolicy
        {
            Selection = selection.Selection,
            Servers = [.. servers.Select(s => new TaskServerEntry
            {
                Id = s.Id,
                Address = s.Address!,
                RegisteredAgents = _servers.TryGetValue(s.Id, out var state) ? state.AgentCount : 0,
                MaxAgents = s.MaxAgents,
                Site = s.Site,
            })],
        };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 720, Level = LogLevel.Information, Message = "Task action {ActionId}: {Count} targets, {Handed} handed to an online Task Server")]
        public static partial void TasksAdded(ILogger logger, string actionId, int count, int handed);

        [LoggerMessage(EventId = 721, Level = LogLevel.Information, Message = "Agent {AgentId} moved from Task Server '{From}' to '{To}'")]
        public static partial void AgentMoved(ILogger logger, string agentId, string from, string to);
    }
}
