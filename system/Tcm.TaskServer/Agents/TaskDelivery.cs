using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tcm.Channels.Delivery;
using Tcm.Protocol;
using Tcm.TaskServer.Diagnostics;
using Tcm.TaskServer.Store;

namespace Tcm.TaskServer.Agents;

/// <summary>One agent registered with the Task Server: its <c>ts</c> push sequence and, once it said hello, its channel.</summary>
internal sealed class TsAgent(string id, long nextSeq, long ackedSeq) : PushSequence(nextSeq, ackedSeq)
{
    public string Id { get; } = id;

    /// <summary>The agent's Client Task Agent channel, once it said hello.</summary>
    public IPushChannel? Session => Channel;

    /// <summary>The agent's last hello said it understands <c>task.cancel</c>.</summary>
    public bool AcceptsTaskCancel { get; set; }
}

/// <summary>
/// The Task Server's delivery: agents (at most <see cref="TaskServerOptions.MaxAgents"/>), their <c>ts</c> push sequence, pushes kept
/// until acknowledged (re-sent on hello, handed out by the HTTP task poll), results stored once per idempotency key, and the outbox of
/// statuses and results for the NS. Nothing is acknowledged to an agent before it is in the store.
/// </summary>
internal sealed partial class TaskDelivery
{
    /// <summary><see cref="TaskServerStatusItem.Via"/> values.</summary>
    public const string ViaPersistent = "persistent";
    public const string ViaHttp = "http";

    /// <summary>How many of a fan-out's tasks are stored and sent before the rest are stored (see <see cref="AcceptAsync"/>).</summary>
    internal const int FirstWave = 128;

    private readonly TsStore _store;
    private readonly TsMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _maxAgents;
    private readonly ConcurrentDictionary<string, TsAgent> _agents;
    private readonly Lock _registerGate = new();
    private readonly Lock _reportGate = new();
    private readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _removed = new(StringComparer.Ordinal);
    private readonly PushWindow _window;
    private readonly TsDeliveryJournal _journal;
    private readonly TsOutbox _outbox;

    public TaskDelivery(TsStore store, TsMetrics metrics, IOptions<TaskServerOptions> options, TimeProvider time, ILogger<TaskDelivery> logger)
    {
        _store = store;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _maxAgents = options.Value.MaxAgents;
        _window = new PushWindow(options.Value.MaxPushesInFlight, (agent, after, max) => PushesAfter((TsAgent)agent, after, max), onSent: metrics.PushesSent);
        _outbox = new TsOutbox(store, () => OutboxWritten?.Invoke());
        _journal = new TsDeliveryJournal(store, _outbox, metrics, () => Changed?.Invoke());

        // why: an acknowledgement deletes the pushes it covers and leaves the agents row alone (TsDeliveryJournal), so the
        // acknowledged sequence is the one before the oldest push left, or the last allocated one when none is left.
        _agents = new ConcurrentDictionary<string, TsAgent>(
            store.Query(
                "SELECT a.id, a.next_seq, MAX(a.acked_seq, COALESCE((SELECT MIN(p.seq) FROM pushes p WHERE p.agent_id=a.id) - 1, a.next_seq - 1)) FROM agents a",
                r => new TsAgent(r.GetString(0), r.GetInt64(1), r.GetInt64(2)))
                .Select(a => KeyValuePair.Create(a.Id, a)),
            StringComparer.Ordinal);
        metrics.ObserveAgents(() => _agents.Count, () => _agents.Values.Count(a => a.Session is not null), () => OutboxCount, () => _agents.Values.Sum(static a => a.PendingPushes));
        metrics.ObserveWindow(() => _window.Waiting, () => _window.InFlight);
    }

    /// <summary>Raised when something was added to the outbox or the agent list changed (the NS link wakes up).</summary>
    public event Action? Changed;

    /// <summary>Raised once per commit that added to the outbox, on the store's writer (must not block): the forward's drain wakes up.</summary>
    public event Action? OutboxWritten;

    public int MaxAgents => _maxAgents;

    public int AgentCount => _agents.Count;

    public int ConnectedCount => _agents.Values.Count(a => a.Session is not null);

    public IEnumerable<TsAgent> Agents => _agents.Values;

    /// <summary>Statuses and results not yet forwarded to the NS.</summary>
    public int OutboxCount => _outbox.Count;

    /// <summary>The agent, registered now if new and there is room; null with the refusal (403 <c>task-server-full</c>) otherwise.</summary>
    public TsAgent? GetOrRegister(string agentId, out TsResponse? refusal, bool ignoreLimit = false)
    {
        refusal = null;
        if (_agents.TryGetValue(agentId, out var agent))
        {
            return agent;
        }

        lock (_registerGate)
        {
            if (_agents.TryGetValue(agentId, out agent))
            {
                return agent;
            }

            if (!ignoreLimit && _agents.Count >= _maxAgents)
            {
                _metrics.Refused(CloseReasons.TaskServerFull);
                Log.Full(_logger, agentId, _maxAgents);
                refusal = TsResponse.Error(403, CloseReasons.TaskServerFull,
                    $"this Task Server holds its maximum of {_maxAgents} agents; use the next Task Server of the policy");
                return null;
            }

            _store.Execute("INSERT OR IGNORE INTO agents(id, registered_at) VALUES(@p0,@p1)", agentId, _time.GetUtcNow().ToUnixTimeMilliseconds());
            agent = new TsAgent(agentId, 1, 0);
            _agents[agentId] = agent;
        }

        Log.AgentRegistered(_logger, agentId, _agents.Count, _maxAgents);
        MarkChanged(agentId);
        return agent;
    }

    /// <summary>The agent moved to another Task Server: forget it (frees its registration).</summary>
    public void Release(string agentId)
    {
        if (!_agents.TryRemove(agentId, out var agent))
        {
            return;
        }

        _store.InTransaction(s =>
        {
            s.Execute("DELETE FROM pushes WHERE agent_id=@p0", agentId);
            return s.Execute("DELETE FROM agents WHERE id=@p0", agentId);
        });
        agent.Session?.BeginClose(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, CloseReasons.Replaced, "the agent moved to another Task Server");
        lock (_reportGate)
        {
            _changed.Remove(agentId);
        }

        Log.AgentReleased(_logger, agentId);
    }

    /// <summary>Marks an agent's registration or connection as changed, for the next report to the NS.</summary>
    public void MarkChanged(string agentId)
    {
        lock (_reportGate)
        {
            _changed.Add(agentId);
            _removed.Remove(agentId);
        }

        Changed?.Invoke();
    }

    /// <summary>The report for the NS: every agent when <paramref name="full"/>, else the changes since the last one.</summary>
    public (List<TaskServerAgentState> Agents, List<string> Removed) TakeReport(bool full)
    {
        List<string> changed, removed;
        lock (_reportGate)
        {
            changed = [.. _changed];
            removed = [.. _removed];
            _changed.Clear();
            _removed.Clear();
        }

        IEnumerable<string> ids = full ? _agents.Keys : changed;
        var agents = new List<TaskServerAgentState>();
        foreach (var id in ids)
        {
            if (_agents.TryGetValue(id, out var agent))
            {
                agents.Add(new TaskServerAgentState(id, agent.Session is not null));
            }
        }

        return (agents, full ? [] : removed);
    }

    /// <summary>Puts back a report that could not be sent.</summary>
    public void RestoreReport(IEnumerable<string> agentIds)
    {
        lock (_reportGate)
        {
            _changed.UnionWith(agentIds);
        }
    }

    /// <summary>
    /// Stores tasks from the NS as pushes in their agents' sequence (once per agent and action), sends them on open channels, and
    /// returns the tasks now stored (including ones stored before), for the NS's acceptance list.
    /// </summary>
    public async Task<List<TaskServerTaskRef>> AcceptAsync(IReadOnlyList<TaskServerAssignment> tasks, CancellationToken ct)
    {
        var accepted = new List<TaskServerTaskRef>(tasks.Count);
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();

        // A fan-out arrives as one batch: take every agent's gate in a fixed order (so two batches cannot deadlock), then store its
        // pushes in two transactions (below), each sent once committed. One commit per task made a 1,000-agent push take a second.
        var agents = tasks.Select(t => t.AgentId).Distinct(StringComparer.Ordinal).Select(id => GetOrRegister(id, out _, ignoreLimit: true)!).ToArray();
        using var gates = await DeliveryEngine.EnterAsync(agents, static agent => agent.Id, ct).ConfigureAwait(false);
        var byId = agents.ToDictionary(a => a.Id, StringComparer.Ordinal);
        PushEncoding? encoding = null;

        // why two commits: the first pushes leave only once they are stored, and one commit of the whole fan-out held every push until
        // the last of its rows was written (the gateway's first push left about 50 ms after the action, half the machine idle meanwhile).
        // A small first wave is committed and sent at once; the rest is stored while the channels carry the first wave.
        var first = Math.Min(tasks.Count, FirstWave);
        foreach (var (from, count) in (ReadOnlySpan<(int, int)>)[(0, first), (first, tasks.Count - first)])
        {
            if (count > 0)
            {
                // why: under the gates, so each agent's pushes enter the window's queue in sequence order; the window counts what it sends.
                _window.Admit(StoreWave(tasks, from, count, byId, nowMs, accepted, ref encoding), actionId: null);
            }
        }

        return accepted;
    }

    /// <summary>
    /// Stores tasks <paramref name="from"/> to <paramref name="from"/> + <paramref name="count"/> of a fan-out as pushes, with their agents'
    /// next sequence, in one transaction; returns the pushes stored now (an action an agent held already is left out), to send.
    /// </summary>
    private List<(PushSequence Agent, long Seq, byte[] Payload)> StoreWave(IReadOnlyList<TaskServerAssignment> tasks, int from, int count,
        Dictionary<string, TsAgent> byId, long nowMs, List<TaskServerTaskRef> accepted, ref PushEncoding? encoding)
    {
        var toSend = new List<(PushSequence Agent, long Seq, byte[] Payload)>(count);
        var advanced = new HashSet<TsAgent>(count);
        var shared = encoding;

        // why fully optimised at once: this loop runs once per fan-out, too few calls for tiered compilation to leave tier 0 (run through
        // 2,000 tasks at tier 0 in every measured fan-out of a profile, 2% of the Task Server's CPU, at the start of every delivery).
        _store.InTransaction([MethodImpl(MethodImplOptions.AggressiveOptimization)] (s) =>
        {
            for (var i = from; i < from + count; i++)
            {
                var task = tasks[i];
                var agent = byId[task.AgentId];
                var seq = agent.NextSeq;

                // why: a fan-out's tasks differ only in their agent (and so in each push's sequence number): the push is serialised once
                // per distinct task and each agent's copy made from it (PushEncoding), as the NS does, instead of once per agent.
                shared = shared?.Message is TaskPushMessage previous && SameTask(previous, task) ? shared : new PushEncoding(task.ToPush(task.ActionId, task.CreatedAt, seq));
                var payload = shared.For(seq);

                // why: the unique (agent_id, action_id) index ignores an action this agent holds already (offered again by the NS).
                if (s.Execute("INSERT OR IGNORE INTO pushes(agent_id, seq, action_id, payload, created_at) VALUES(@p0,@p1,@p2,@p3,@p4)", agent.Id, seq, task.ActionId, payload, nowMs) > 0)
                {
                    agent.NextSeq = seq + 1;
                    advanced.Add(agent);
                    toSend.Add((agent, seq, payload));
                }

                accepted.Add(new TaskServerTaskRef(task.ActionId, task.AgentId));
            }

            TsAgentSequences.Write(s, advanced);
            return 0;
        });

        encoding = shared;
        return toSend;
    }

    private static bool SameTask(TaskPushMessage push, TaskServerAssignment task) =>
        push.TaskId == task.ActionId && push.CreatedAt == task.CreatedAt && push.SameDefinition(task);

    /// <summary>Stored pushes waiting for room in the push window.</summary>
    public int WaitingPushes => _window.Waiting;

    /// <summary>Pushes written to channels and not yet acknowledged (at most <c>MaxPushesInFlight</c>).</summary>
    public long PushesInFlight => _window.InFlight;

    /// <summary>
    /// Starts a session after its hello: takes <paramref name="lastReceivedSeq"/> as an acknowledgement, then (under the agent's gate)
    /// queues the welcome and re-sends every push not acknowledged through the window, in order (at most its share per channel at a
    /// time, so the channel's send queue stays bounded); closes the channel it replaced.
    /// </summary>
    public async Task StartSessionAsync(TsAgent agent, IPushChannel session, WelcomeMessage welcome, long lastReceivedSeq, CancellationToken ct)
    {
        Ack(agent, lastReceivedSeq, ViaPersistent);
        var replaced = await DeliveryEngine.StartSessionAsync(agent, session, welcome, _window, ct).ConfigureAwait(false);
        replaced?.BeginClose(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, CloseReasons.Replaced, "a newer connection of this agent replaced this one");
        MarkChanged(agent.Id);
    }

    /// <summary>
    /// The NS forwarded an administrator's cancel: the task's push the agent has not acknowledged is stored again with the cancel as its
    /// not-after (an agent that fetches it later does not run it), and an agent whose channel accepts it gets <c>task.cancel</c>.
    /// </summary>
    public void Cancel(string actionId, string agentId)
    {
        if (!_agents.TryGetValue(agentId, out var agent))
        {
            return;
        }

        var now = _time.GetUtcNow();
        var stored = _store.Query("SELECT seq, payload FROM pushes WHERE agent_id=@p0 AND action_id=@p1", r => (Seq: r.GetInt64(0), Payload: (byte[])r.GetValue(1)), agentId, actionId);
        foreach (var (seq, payload) in stored)
        {
            if (MessageCodec.Decode(payload, int.MaxValue).Message is TaskPushMessage push)
            {
                _store.InTransaction(s => s.Execute("UPDATE pushes SET payload=@p2 WHERE agent_id=@p0 AND seq=@p1", agentId, seq, MessageCodec.Encode(push with { NotAfter = now })));
            }
        }

        var sent = agent.AcceptsTaskCancel && agent.Session is { Ready: true } session;
        if (sent)
        {
            agent.Session!.Send(new TaskCancelMessage { TaskId = actionId, Reason = TaskCancelMessage.ByAdministrator });
        }

        Log.Cancelled(_logger, actionId, agentId, stored.Count, sent);
    }

    /// <summary>The channel ended: its pushes wait in the store for the next hello or poll.</summary>
    public void EndSession(TsAgent agent, IPushChannel session)
    {
        if (agent.DetachChannel(session))
        {
            _window.Changed(agent);
            MarkChanged(agent.Id);
        }
    }

    /// <summary>
    /// Cumulative acknowledgement: pushes up to <paramref name="upToSeq"/> are delivered. Cheap: the agent's sequence moves in memory and
    /// the store write (the pushes dropped, a status for the NS each) is coalesced (<see cref="TsDeliveryJournal"/>).
    /// </summary>
    public void Ack(TsAgent agent, long upToSeq, string via) => Ack(agent, upToSeq, via, byResult: false);

    private void Ack(TsAgent agent, long upToSeq, string via, bool byResult)
    {
        var previous = agent.RaiseAckedSeq(upToSeq);
        if (previous < 0)
        {
            return;
        }

        _metrics.Ack();
        _window.Changed(agent);
        _journal.Acknowledged(agent.Id, previous, Math.Min(upToSeq, agent.NextSeq - 1), via, _time.GetUtcNow().ToUnixTimeMilliseconds(), byResult);
    }

    /// <summary>The HTTP fallback: acknowledges up to <paramref name="after"/> and returns every push after it not acknowledged, in order.</summary>
    public PendingPushes HandOut(TsAgent agent, long after)
    {
        Ack(agent, after, ViaHttp);
        return DeliveryEngine.HandOut(PushesAfter(agent, Math.Max(after, agent.AckedSeq), int.MaxValue).Select(static p => p.Payload));
    }

    private List<(long Seq, byte[] Payload)> PushesAfter(TsAgent agent, long from, int max) =>
        _store.Query("SELECT seq, payload FROM pushes WHERE agent_id=@p0 AND seq>@p1 ORDER BY seq LIMIT @p2", r => (r.GetInt64(0), (byte[])r.GetValue(1)), agent.Id, from, max);

    /// <summary>A task state from the agent, for the NS (running; final states come with the result). Coalesced, best effort.</summary>
    public void RecordStatus(TsAgent agent, TaskStatusMessage status, string via)
    {
        if (status.State is not (TaskState.Running or TaskState.Delivered))
        {
            return;
        }

        _journal.Status(status.TaskId, agent.Id,
            new TaskServerStatusItem { AgentId = agent.Id, TaskId = status.TaskId, State = status.State, Via = via, At = status.At == default ? _time.GetUtcNow() : status.At });
    }

    /// <summary>
    /// A result from the agent's channel with the acknowledgement it carried (<see cref="TaskResultMessage.AckUpToSeq"/>, null for none;
    /// docs/protocol.md section 7): the acknowledgement is applied at once and written in the result's own transaction.
    /// </summary>
    public Task<ResultReceipt> StoreResultAsync(TsAgent agent, Message result, long? carriedAck, CancellationToken cancellationToken) =>
        _journal.StoreWithCarriedAckAsync((Delivery: this, Agent: agent, Result: result, Token: cancellationToken), carriedAck,
            static (s, upToSeq) => s.Delivery.Ack(s.Agent, upToSeq, ViaPersistent, byResult: true),
            static s => s.Delivery.StoreResultAsync(s.Agent, s.Result, s.Token));

    /// <summary>
    /// Stores a result once per idempotency key, which must name the agent and the task (see <see cref="ResultIdentity"/>), and queues
    /// it for the NS after the agent's pending acknowledgements (instead of the task's pending status); the agent may be acknowledged
    /// when this returns. Throws <see cref="ArgumentException"/> for a result that is not the agent's, names another task or is not final.
    /// </summary>
    public async Task<ResultReceipt> StoreResultAsync(TsAgent agent, Message result, CancellationToken cancellationToken = default)
    {
        var (key, _, taskId, _) = ResultIdentity.Of(agent.Id, result);
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();

        // why: the acknowledgement a result carried counts this agent's pushes on the Task Server, not on the NS it is forwarded to.
        var item = new TaskServerResultItem { AgentId = agent.Id, Result = result is TaskResultMessage { AckUpToSeq: not null } carrying ? carrying with { AckUpToSeq = null } : result };
        var inserted = await _store.WriteAsync(s =>
        {
            // why: before the duplicate check, so an acknowledgement carried by a repeated result is written too; the delivery of the
            // result's own push travels with the result (one outbox row, one update of the NS's target), else as a status of its own.
            var delivered = _journal.TakeForResult(s, agent.Id, taskId);
            if (s.Execute("INSERT OR IGNORE INTO results(task_id, idempotency_key, agent_id, received_at) VALUES(@p0,@p1,@p2,@p3)", taskId, key, agent.Id, nowMs) == 0)
            {
                if (delivered is not null)
                {
                    _outbox.Add(s, new TaskServerStatusItem { AgentId = agent.Id, TaskId = taskId, State = TaskState.Delivered, Via = delivered.Via, At = delivered.At });
                }

                return false;
            }

            _outbox.Add(s, item with { Delivered = delivered });
            return true;
        }, cancellationToken).ConfigureAwait(false);
        _metrics.ResultReceived(duplicate: !inserted);
        Changed?.Invoke();
        return new ResultReceipt { IdempotencyKey = key, Duplicate = !inserted };
    }

    /// <summary>The oldest outbox entries, in order.</summary>
    public List<OutboxEntry> PeekOutbox(int max) => _outbox.Peek(max);

    /// <summary>Drops forwarded outbox entries.</summary>
    public void RemoveFromOutbox(IReadOnlyCollection<long> ids) => _outbox.Remove(ids);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Agent {AgentId} registered with the Task Server ({Count} of {Max})")]
        public static partial void AgentRegistered(ILogger logger, string agentId, int count, int max);

        [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Refused agent {AgentId}: the Task Server holds its maximum of {Max} agents (task-server-full)")]
        public static partial void Full(ILogger logger, string agentId, int max);

        [LoggerMessage(EventId = 2110, Level = LogLevel.Information, Message = "Task {ActionId} of agent {AgentId} cancelled: {Disarmed} stored pushes disarmed, task.cancel sent: {Sent}")]
        public static partial void Cancelled(ILogger logger, string actionId, string agentId, int disarmed, bool sent);

        [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "Agent {AgentId} released: it is held by another Task Server now")]
        public static partial void AgentReleased(ILogger logger, string agentId);
    }
}
