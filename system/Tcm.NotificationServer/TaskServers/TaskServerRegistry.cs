using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
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
/// With other nodes on the store, each holds the Task Servers that call it, and the store is the truth of each task: stored, accepted
/// (<c>accepted_by</c>), delivered (its target no longer pending), cancelled (<c>cancelled_at</c>, until the Task Server that holds it
/// took the cancel). Tasks stored, accepted or delivered here and a changed selection are told to the others
/// (<see cref="NodeChangeKind.TaskServerTasks"/>, <see cref="NodeChangeKind.Policy"/>), which read them again (<see cref="LoadTasks"/>,
/// <see cref="ReloadSelection"/>) and offer the tasks to the Task Servers they hold; a cancel is told as
/// <see cref="NodeChangeKind.TaskServerCancel"/> (<see cref="CancelHeld"/>).
/// </para>
/// </summary>
internal sealed partial class TaskServerRegistry : ITaskServerCancel
{
    private const string SelectionKey = "task-server-selection";

    private readonly TcmStore _store;
    private readonly ActionLedger _ledger;
    private readonly SiteServerDirectory _sites;
    private readonly PolicyService _policy;
    private readonly PolicyDistributor _distributor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly INodeSignal _nodes;
    private readonly TaskServerCounts _counts;
    private readonly ConcurrentDictionary<string, TaskServerState> _servers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _holder = new(StringComparer.Ordinal);
    // Undelivered tasks per agent; guarded by locking the list.
    private readonly ConcurrentDictionary<string, List<PendingTsTask>> _pending = new(StringComparer.Ordinal);
    private volatile TaskServerSelectionSettings _selection;

    public TaskServerRegistry(TcmStore store, ActionLedger ledger, SiteServerDirectory sites, PolicyService policy, PolicyDistributor distributor, TimeProvider time, ILogger<TaskServerRegistry> logger,
        ActionCancellation cancellation, INodeSignal nodes, TaskServerCounts counts)
    {
        _nodes = nodes;
        _counts = counts;
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
        cancellation.TaskServerCancel = this;
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

    /// <summary>The selection method and ordered lists.</summary>
    public TaskServerSelectionSettings Selection => _selection;

    /// <summary>The runtime state of a Task Server, created on first contact.</summary>
    public TaskServerState Get(SiteServerRecord record) => _servers.GetOrAdd(record.Id, _ => new TaskServerState(record));

    /// <summary>The Task Server holding an agent, if any.</summary>
    public string? HolderOf(string agentId) => _holder.GetValueOrDefault(agentId);

    /// <summary>The Task Server called this node now (a report, a poll).</summary>
    public void Contacted(TaskServerState state) => _counts.Contacted(state);

    /// <summary>Every registered Task Server with its counts, whichever node it calls (<see cref="TaskServerCounts"/>).</summary>
    public IReadOnlyList<TaskServerInfoView> List() =>
        [.. _sites.All.Where(s => s.Kind == SiteServerKind.TaskServer && s.Thumbprint is not null).Select(s =>
        {
            var counts = _counts.View(s.Id, _servers.GetValueOrDefault(s.Id));
            return new TaskServerInfoView
            {
                Id = s.Id,
                Name = s.Name,
                Address = s.Address,
                Site = s.Site,
                MaxAgents = s.MaxAgents,
                RegisteredAgents = counts.Agents,
                ConnectedAgents = counts.Connected,
                Online = counts.Online,
                LastContact = counts.LastContact,
                Node = counts.Node,
            };
        })];

    /// <summary>Applies a Task Server's report of the agents it holds.</summary>
    public async Task ReportAsync(SiteServerRecord record, TaskServerReport report, CancellationToken ct = default)
    {
        var state = Get(record);
        _counts.Contacted(state);
        if (report.Full)
        {
            LoadCancels(state);
        }

        var addressChanged = report.Address is { Length: > 0 } address && address != record.Address;
        _sites.UpdateAddress(record, report.Address is { Length: > 0 } ? report.Address : null, report.MaxAgents);
        var heldElsewhere = await ClaimAsync(record.Id, report, ct).ConfigureAwait(false);
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var agent in report.Agents)
        {
            if (heldElsewhere.Contains(agent.AgentId))
            {
                _holder.TryRemove(KeyValuePair.Create(agent.AgentId, record.Id));
                state.Release(agent.AgentId);
                Log.AgentHeldElsewhere(_logger, agent.AgentId, record.Name);
                continue;
            }

            listed.Add(agent.AgentId);
            state.SetAgent(agent.AgentId, agent.Connected);
            var previous = _holder.GetValueOrDefault(agent.AgentId);
            _holder[agent.AgentId] = record.Id;
            if (previous is not null && previous != record.Id && _servers.TryGetValue(previous, out var old))
            {
                old.Release(agent.AgentId);
                _counts.Changed(old);
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

        Unclaim(record.Id, removed);
        _counts.Changed(state);

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
        // why fully optimised at once (here and in the acceptance's write): a loop over a fan-out's agents runs once per fan-out, too few
        // calls for tiered compilation to leave tier 0.
        await _store.Writer.WriteAsync([MethodImpl(MethodImplOptions.AggressiveOptimization)] (ctx) =>
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
                if (IsOnline(state, now))
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

    /// <summary>
    /// The Task Server stored these tasks: stop offering them to it. Returns once the store holds the acceptance, which the other nodes are
    /// told of; a task cancelled meanwhile (withdrawn, or its cancel kept for another Task Server) gets its cancel with this one's next work.
    /// </summary>
    public async Task AcceptAsync(TaskServerState state, IReadOnlyList<TaskServerTaskRef> items, CancellationToken ct = default)
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
        var cancelled = await _store.Writer.WriteAsync(
            [MethodImpl(MethodImplOptions.AggressiveOptimization)] (ctx) =>
            {
                var found = new List<TaskServerTaskRef>();
                foreach (var item in items)
                {
                    var kept = ctx.Query("UPDATE ts_tasks SET accepted_by=@p2 WHERE action_id=@p0 AND agent_id=@p1 RETURNING cancelled_at",
                        r => r.IsDBNull(0), item.ActionId, item.AgentId, id);
                    if (kept is not [true])
                    {
                        found.Add(item);
                    }
                }

                return found;
            },
            ct).ConfigureAwait(false);
        foreach (var item in cancelled)
        {
            state.Cancel(item);
        }

        TellOthers(items.Select(static i => i.ActionId));
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
        if (_nodes.Shared && items.Count > 0)
        {
            // why: told once the posted write committed, so the others read the targets no longer pending.
            _ = TellOthersAfterAsync([.. items.Select(static i => i.TaskId)]);
        }
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

    /// <summary>Whether a Task Server polls this node or did lately.</summary>
    private static bool IsOnline(TaskServerState state, DateTimeOffset now) => state.Polling > 0 || now - state.LastContact < TaskServerCounts.OnlineWindow;

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
                RegisteredAgents = _counts.AgentsOf(s.Id, _servers.GetValueOrDefault(s.Id)),
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

        [LoggerMessage(EventId = 723, Level = LogLevel.Information, Message = "Agent {AgentId} is held by another Task Server, to which it connected since: Task Server '{Server}' releases it")]
        public static partial void AgentHeldElsewhere(ILogger logger, string agentId, string server);

        [LoggerMessage(EventId = 722, Level = LogLevel.Warning, Message = "Could not tell the other nodes of Task Server statuses; they read them at their next change of those actions")]
        public static partial void TellFailed(ILogger logger, Exception exception);
    }
}
