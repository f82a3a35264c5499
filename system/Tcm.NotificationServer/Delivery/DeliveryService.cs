using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Tcm.Channels.Delivery;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Diagnostics;
using Tcm.NotificationServer.Store;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Delivery;

/// <summary>
/// Nothing lost, nothing twice: allocates push sequence numbers, stores pushes before sending them, processes
/// cumulative acknowledgements, re-sends on hello, hands pushes out over HTTP, and stores results once.
/// <para>
/// Pushes and session starts run under the gate of each agent they concern (<see cref="DeliveryEngine"/>): a hello that
/// re-sends from the store and a fan-out that sends fresh pushes cannot interleave for that agent, so it always receives
/// its pushes in sequence order, while other agents' hellos and pushes go on.
/// </para>
/// <para>
/// Who numbers the pushes: on the embedded SQLite file (one node) this node, from each agent's count in memory; on PostgreSQL, which
/// several nodes may share, the store, inside the write that stores them (<see cref="StoreSequences"/>), so two nodes pushing to one
/// agent at the same instant never take the same number.
/// </para>
/// </summary>
internal sealed partial class DeliveryService(
    TcmStore store,
    ActionLedger ledger,
    PushWindow window,
    DeliveryJournal journal,
    INodeSignal nodes,
    NsMetrics metrics,
    TimeProvider time,
    ILogger<DeliveryService> logger)
{
    /// <summary><see cref="ActionTargetStatus.DeliveredVia"/> for the channel.</summary>
    public const string ViaPersistent = "persistent";

    /// <summary><see cref="ActionTargetStatus.DeliveredVia"/> for HTTP polling.</summary>
    public const string ViaHttp = "http";

    /// <summary>
    /// Stores one push per target (and the action, when given) in one transaction, then queues each push on the target's
    /// channel when it has one, without waiting for the sends. Returns how many went out over a channel. <paramref name="build"/> gives
    /// each agent's push with any <see cref="PushMessage.Seq"/> (each agent's own is written in); agents given the same instance share
    /// one encoding (<see cref="PushEncoding"/>), so a fan-out of one task is serialised once.
    /// </summary>
    public Task<int> PushAsync(
        IReadOnlyList<AgentRecord> targets,
        Func<AgentRecord, PushMessage> build,
        NewAction? action = null,
        CancellationToken cancellationToken = default) =>
        PushAsync(targets, build, action?.Id, action is null ? null : (ctx, agentIds, nowMs) => ledger.Create(ctx, action, nowMs, agentIds), cancellationToken);

    /// <summary>
    /// <see cref="PushAsync(IReadOnlyList{AgentRecord}, Func{AgentRecord, PushMessage}, NewAction?, CancellationToken)"/> for the pushes of
    /// action <paramref name="actionId"/>, with <paramref name="record"/> (given the agents pushed to and the time) written in the
    /// pushes' own transaction: an action's wave and its pushes commit together.
    /// </summary>
    public async Task<int> PushAsync(
        IReadOnlyList<AgentRecord> targets,
        Func<AgentRecord, PushMessage> build,
        string? actionId,
        Action<WriteContext, IEnumerable<string>, long>? record,
        CancellationToken cancellationToken = default)
    {
        using var gates = await DeliveryEngine.EnterAsync(Distinct(targets), static agent => agent.Id, cancellationToken).ConfigureAwait(false);
        var agents = gates.Agents;
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var encodings = Encode(agents, build);
        var pushes = store.IsPostgres
            ? await StoreNumberedAsync(agents, encodings, actionId, record, nowMs).ConfigureAwait(false)
            : await NumberedHereAsync(agents, encodings, actionId, record, nowMs).ConfigureAwait(false);

        foreach (var (agent, seq, _, _) in pushes)
        {
            // why: another node's push may have moved the count past this one already (its signal came first).
            if (seq >= agent.NextSeq)
            {
                agent.NextSeq = seq + 1;
            }
        }

        // why: under the gates, so each agent's pushes enter the window's queue in sequence order; the window counts what it sends.
        var sent = window.Admit(pushes.Select(static p => ((PushSequence)p.Agent, p.Seq, p.Payload)), actionId);

        // why: committed, so another node that hears of them reads them from the store; it moves every target's next sequence number
        // past them and sends them to the targets it holds.
        nodes.PushesStored(pushes.Select(static p => (p.Agent.Id, p.Seq)));
        Log.Pushed(logger, pushes.Length, sent, actionId);
        return sent;
    }

    private const string InsertPush = "INSERT INTO pushes(agent_id, seq, kind, payload, action_id, created_at) VALUES(@p0,@p1,@p2,@p3,@p4,@p5)";

    // why: on PostgreSQL a fan-out's pushes are one statement over arrays, where a statement per push was a round trip per push.
    private const string InsertPushes = """
        INSERT INTO pushes(agent_id, seq, kind, payload, action_id, created_at)
        SELECT k.agent_id, k.seq, k.kind, k.payload, @p4::text, @p5::bigint FROM unnest(@p0::text[], @p1::bigint[], @p2::text[], @p3::bytea[]) AS k(agent_id, seq, kind, payload)
        """;

    // why: one encoding per distinct message, so a fan-out of one task is serialised once.
    private static (string Kind, PushEncoding Encoding)[] Encode(AgentRecord[] agents, Func<AgentRecord, PushMessage> build)
    {
        var encodings = new (string Kind, PushEncoding Encoding)[agents.Length];
        PushEncoding? encoding = null;
        for (var i = 0; i < agents.Length; i++)
        {
            var message = build(agents[i]);
            if (encoding is null || !ReferenceEquals(encoding.Message, message))
            {
                encoding = new PushEncoding(message);
            }

            encodings[i] = (KindOf(message), encoding);
        }

        return encodings;
    }

    // One node on its own file: numbered from each agent's count, one statement per push.
    private async Task<(AgentRecord Agent, long Seq, string Kind, byte[] Payload)[]> NumberedHereAsync(
        AgentRecord[] agents, (string Kind, PushEncoding Encoding)[] encodings, string? actionId, Action<WriteContext, IEnumerable<string>, long>? record, long nowMs)
    {
        var pushes = new (AgentRecord Agent, long Seq, string Kind, byte[] Payload)[agents.Length];
        for (var i = 0; i < agents.Length; i++)
        {
            var agent = agents[i];
            pushes[i] = (agent, agent.NextSeq, encodings[i].Kind, encodings[i].Encoding.For(agent.NextSeq));
        }

        await store.Writer.WriteAsync(ctx =>
        {
            record?.Invoke(ctx, pushes.Select(p => p.Agent.Id), nowMs);

            // why: no agents row update per push; the next sequence is read back from the pushes at start (TcmStore.LoadAgents).
            foreach (var (agent, seq, kind, payload) in pushes)
            {
                ctx.Execute(InsertPush, agent.Id, seq, kind, payload, actionId, nowMs);
            }
        }).ConfigureAwait(false);
        return pushes;
    }

    // Nodes sharing a database: numbered by the store in the pushes' own write, each payload encoded with the number the store gave.
    // The write makes its result afresh on each run: a transaction run again after a conflict may be given other numbers.
    private Task<(AgentRecord Agent, long Seq, string Kind, byte[] Payload)[]> StoreNumberedAsync(
        AgentRecord[] agents, (string Kind, PushEncoding Encoding)[] encodings, string? actionId, Action<WriteContext, IEnumerable<string>, long>? record, long nowMs)
    {
        var ids = new string[agents.Length];
        var known = new long[agents.Length];
        for (var i = 0; i < agents.Length; i++)
        {
            ids[i] = agents[i].Id;
            known[i] = agents[i].NextSeq;
        }

        return store.Writer.WriteAsync(ctx =>
        {
            record?.Invoke(ctx, ids, nowMs);
            var seqs = StoreSequences.Take(ctx, ids, known);
            var pushes = new (AgentRecord Agent, long Seq, string Kind, byte[] Payload)[agents.Length];
            var kinds = new string[agents.Length];
            var payloads = new byte[agents.Length][];
            for (var i = 0; i < agents.Length; i++)
            {
                var (kind, encoding) = encodings[i];
                pushes[i] = (agents[i], seqs[i], kind, encoding.For(seqs[i]));
                kinds[i] = kind;
                payloads[i] = pushes[i].Payload;
            }

            ctx.Defer(InsertPushes, ids, seqs, kinds, payloads, actionId, nowMs);
            return pushes;
        });
    }

    /// <summary>
    /// Starts a session after its hello: takes <paramref name="lastReceivedSeq"/> as an acknowledgement, then (under the
    /// agent's gate) makes <paramref name="channel"/> the agent's channel, queues the welcome, and re-sends every push after the
    /// acknowledged one through the window, in order, before any fresh push.
    /// </summary>
    public async Task StartSessionAsync(AgentRecord agent, IPushChannel channel, WelcomeMessage welcome, long lastReceivedSeq, CancellationToken cancellationToken)
    {
        Ack(agent, lastReceivedSeq, ViaPersistent);
        await DeliveryEngine.StartSessionAsync(agent, channel, welcome, window, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The channel ended: pushes wait in the store for the next hello or poll.</summary>
    public void EndSession(AgentRecord agent, IPushChannel channel) => DeliveryEngine.EndSession(agent, channel, window);

    private static AgentRecord[] Distinct(IReadOnlyList<AgentRecord> targets)
    {
        var set = new HashSet<AgentRecord>(targets.Count, ReferenceEqualityComparer.Instance);
        var distinct = new AgentRecord[targets.Count];
        var count = 0;
        foreach (var agent in targets)
        {
            if (set.Add(agent))
            {
                distinct[count++] = agent;
            }
        }

        return count == distinct.Length ? distinct : distinct[..count];
    }

    private static IEnumerable<byte[]> Payloads(IEnumerable<(long Seq, byte[] Payload)> pushes)
    {
        foreach (var (_, payload) in pushes)
        {
            yield return payload;
        }
    }

    /// <summary>A cumulative acknowledgement of every push up to <paramref name="upToSeq"/>. Cheap: the store write is coalesced (<see cref="DeliveryJournal"/>).</summary>
    public void Ack(AgentRecord agent, long upToSeq, string via) => Ack(agent, upToSeq, via, byResult: false);

    private void Ack(AgentRecord agent, long upToSeq, string via, bool byResult)
    {
        upToSeq = Math.Min(upToSeq, agent.NextSeq - 1);
        var previous = agent.RaiseAckedSeq(upToSeq);
        if (previous < 0)
        {
            return;
        }

        metrics.Ack();
        window.Changed(agent);
        journal.Acknowledged(agent.Id, previous, upToSeq, via, time.GetUtcNow().ToUnixTimeMilliseconds(), byResult);
    }

    /// <summary>
    /// A result from the agent's channel with the acknowledgement it carried (<see cref="TaskResultMessage.AckUpToSeq"/>, null for none):
    /// the acknowledgement is applied at once and written in the result's own transaction, not in one of its own.
    /// </summary>
    public Task<ResultReceipt> StoreResultAsync(AgentRecord agent, Message result, long? carriedAck, CancellationToken cancellationToken) =>
        journal.StoreWithCarriedAckAsync((Service: this, Agent: agent, Result: result, Token: cancellationToken), carriedAck,
            static (s, upToSeq) => s.Service.Ack(s.Agent, upToSeq, ViaPersistent, byResult: true),
            static s => s.Service.StoreResultAsync(s.Agent, s.Result, s.Token));

    /// <summary>
    /// The HTTP fallback: acknowledges everything up to <paramref name="after"/> and returns every push after it that
    /// is not acknowledged, in order.
    /// </summary>
    public PendingPushes HandOut(AgentRecord agent, long after)
    {
        Ack(agent, after, ViaHttp);
        var from = Math.Max(after, agent.AckedSeq);
        if (agent.NextSeq - 1 <= from)
        {
            return new PendingPushes { Items = [] };
        }

        return DeliveryEngine.HandOut(Payloads(store.GetPushesAfter(agent.Id, from, int.MaxValue)));
    }

    /// <summary>Best effort: a running task moves its action target to running.</summary>
    public void RecordStatus(AgentRecord agent, TaskStatusMessage status)
    {
        if (status.State != TaskState.Running)
        {
            return;
        }

        journal.Running(status.TaskId, agent.Id);
    }

    /// <summary>
    /// Stores a <see cref="TaskResultMessage"/> or <see cref="InventoryResultMessage"/> once per idempotency key, which must name the
    /// agent and the task (see <see cref="ResultIdentity"/>); the returned task completes after the store committed, so the caller may
    /// acknowledge it. Throws <see cref="ArgumentException"/> for a result that is not the agent's, names another task or is not final.
    /// <paramref name="delivered"/>: the target's delivery as a Task Server forwarded it with the result, written in the same update.
    /// </summary>
    public async Task<ResultReceipt> StoreResultAsync(AgentRecord agent, Message result, CancellationToken cancellationToken, TargetProgress? delivered = null)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var (key, kind, refId, state) = ResultIdentity.Of(agent.Id, result);
        var (output, exitCode, inventory) = result switch
        {
            TaskResultMessage task => (task.Output, (int?)task.ExitCode, (string?)null),
            InventoryResultMessage inv => ($"inventory of {inv.Inventory.ComputerName}: {inv.Inventory.Software?.Count ?? 0} applications", (int?)null,
                TcmStore.Serialize(inv.Inventory, ProtocolJsonContext.Default.BasicInventory)),
            _ => throw new ArgumentException($"'{result.GetType().Name}' is not a result", nameof(result)),
        };

        var payload = TcmStore.Serialize(result, ProtocolJsonContext.Default.Message);
        var taken = new JournalTake();
        // why when idle: a result's write may wait while a fan-out is being delivered (DeliveryBurst); it is acknowledged after it commits.
        var duplicate = await store.Writer.WriteWhenIdleAsync(ctx =>
        {
            // why the insert held back: on PostgreSQL it travels with the acknowledgements' update (one round trip for both).
            var inserted = ctx.DeferCount(
                "INSERT INTO results(idempotency_key, agent_id, kind, ref_id, payload, received_at) VALUES(@p0,@p1,@p2,@p3,@p4,@p5) ON CONFLICT DO NOTHING",
                key, agent.Id, kind, refId, payload, nowMs);

            // why: even for a repeated result (an acknowledgement it carried is pending for this write alone); the delivery of the
            // result's own target comes back to be written with its final state, in one update of that row.
            var delivery = journal.TakeForResult(ctx, agent.Id, refId, taken) ?? delivered;
            if (inserted() == 0)
            {
                if (delivery is { } delivered)
                {
                    ledger.Progress(ctx, delivered);
                }

                return true;
            }

            ledger.Complete(ctx, refId, agent.Id, state, nowMs, output, exitCode, delivery);
            if (inventory is not null)
            {
                ctx.Defer("UPDATE agents SET inventory=@p1 WHERE id=@p0", agent.Id, inventory);
            }

            return false;
        }, cancellationToken).ConfigureAwait(false);

        metrics.ResultReceived(duplicate);

        return new ResultReceipt { IdempotencyKey = key, Duplicate = duplicate };
    }

    /// <summary>A new action id: 16 hex digits from <see cref="RandomNumberGenerator"/>.</summary>
    public static string NewActionId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private static string KindOf(PushMessage message) => message switch
    {
        TaskPushMessage => MessageKinds.TaskPush,
        PolicyPushMessage => MessageKinds.PolicyPush,
        InventoryRequestMessage => MessageKinds.InventoryRequest,
        _ => throw new ArgumentException($"'{message.GetType().Name}' is not a push kind", nameof(message)),
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Stored {Count} pushes, {Sent} sent over a channel (action {ActionId})")]
        public static partial void Pushed(ILogger logger, int count, int sent, string? actionId);
    }
}
