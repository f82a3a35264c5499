using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Diagnostics;
using Tcm.NotificationServer.Store;
using Tcm.Protocol;

namespace Tcm.NotificationServer.Delivery;

/// <summary>
/// Delivery progress nobody waits for, written coalesced: acknowledgements (the agent's acknowledged sequence, the pushes'
/// acknowledgement time, the action targets they delivered) and <c>running</c> statuses. An acknowledgement only spares a re-send
/// (the agent's sequence is already raised in memory) and a status only shows progress, so neither needs a store write of its own.
/// <para>
/// They are kept here and written by one posted write that takes everything pending when the store's single writer reaches it, so
/// under load one savepoint carries many agents' progress. A result takes its agent's pending acknowledgements into its own write
/// (they commit together, before the result's final state) and drops its target's pending <c>running</c> status, which the final
/// state supersedes: the status travels with the result when the result follows at once.
/// </para>
/// </summary>
internal sealed class DeliveryJournal(TcmStore store, ActionLedger ledger, NsMetrics metrics)
{
    private readonly Lock _lock = new();
    private Dictionary<string, List<PendingAck>> _acks = new(StringComparer.Ordinal);
    private Dictionary<(string ActionId, string AgentId), TargetProgress> _statuses = [];
    private bool _flushQueued;

    /// <summary>Pushes of <paramref name="agentId"/> in <c>(afterSeq, upToSeq]</c> were acknowledged <paramref name="via"/> at <paramref name="atMs"/>.</summary>
    public void Acknowledged(string agentId, long afterSeq, long upToSeq, string via, long atMs)
    {
        lock (_lock)
        {
            if (!_acks.TryGetValue(agentId, out var list))
            {
                _acks[agentId] = list = new List<PendingAck>(1);
            }

            list.Add(new PendingAck(afterSeq, upToSeq, via, atMs));
            QueueFlush();
        }
    }

    /// <summary>A task started on its agent (best effort).</summary>
    public void Running(string actionId, string agentId)
    {
        lock (_lock)
        {
            _statuses[(actionId, agentId)] = new TargetProgress(actionId, agentId, TaskState.Running);
            QueueFlush();
        }
    }

    /// <summary>
    /// Inside a result's write: writes <paramref name="agentId"/>'s pending acknowledgements there and drops the pending status of the
    /// result's target, so the result's final state is written after the delivery and instead of the status.
    /// </summary>
    public void TakeInto(WriteContext ctx, string agentId, string actionId)
    {
        List<PendingAck>? acks;
        lock (_lock)
        {
            _acks.Remove(agentId, out acks);
            _statuses.Remove((actionId, agentId));
        }

        if (acks is not null)
        {
            Write(ctx, agentId, acks);
        }
    }

    // why: called under _lock; one posted write at a time, it takes all that is pending when it runs.
    private void QueueFlush()
    {
        if (_flushQueued)
        {
            return;
        }

        _flushQueued = true;
        store.Writer.Post(Flush, "delivery progress (acknowledgements, statuses)");
    }

    private void Flush(WriteContext ctx)
    {
        Dictionary<string, List<PendingAck>> acks;
        Dictionary<(string ActionId, string AgentId), TargetProgress> statuses;
        lock (_lock)
        {
            _flushQueued = false;
            (acks, _acks) = (_acks, new Dictionary<string, List<PendingAck>>(StringComparer.Ordinal));
            (statuses, _statuses) = (_statuses, []);
        }

        foreach (var (agentId, list) in acks)
        {
            Write(ctx, agentId, list);
        }

        foreach (var progress in statuses.Values)
        {
            ledger.Progress(ctx, progress);
        }
    }

    private void Write(WriteContext ctx, string agentId, List<PendingAck> acks)
    {
        // why: no agents row update; the acknowledged sequence is read back from the pushes' acknowledgement times at start.
        foreach (var ack in acks)
        {
            ledger.MarkAcknowledged(ctx, agentId, ack.AfterSeq, ack.UpToSeq, ack.Via, ack.AtMs);
            var created = ctx.Query(
                "UPDATE pushes SET acked_at=@p3 WHERE agent_id=@p0 AND seq>@p1 AND seq<=@p2 AND acked_at IS NULL RETURNING created_at",
                static r => r.GetInt64(0), agentId, ack.AfterSeq, ack.UpToSeq, ack.AtMs);
            foreach (var createdMs in created)
            {
                metrics.DeliveryLatency(ack.AtMs - createdMs);
            }
        }
    }

    private readonly record struct PendingAck(long AfterSeq, long UpToSeq, string Via, long AtMs);
}
