using Tcm.Channels.Delivery;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Diagnostics;
using Tcm.NotificationServer.Store;
using Tcm.Protocol;

namespace Tcm.NotificationServer.Delivery;

/// <summary>
/// The NS's coalesced delivery progress (<see cref="CoalescedDeliveryJournal{TContext, TStatus}"/>): an acknowledgement marks the
/// pushes' acknowledgement time and the action targets they delivered, a <c>running</c> status moves its action target.
/// </summary>
internal sealed class DeliveryJournal(TcmStore store, ActionLedger ledger, NsMetrics metrics)
    : CoalescedDeliveryJournal<WriteContext, TargetProgress>((write, what) => store.Writer.Post(write, what))
{
    /// <summary>A task started on its agent (best effort).</summary>
    public void Running(string actionId, string agentId) => Status(actionId, agentId, new TargetProgress(actionId, agentId, TaskState.Running));

    /// <summary>
    /// Inside the write of <paramref name="agentId"/>'s result for action <paramref name="actionId"/>: writes the agent's pending
    /// acknowledgements, except the delivery of the result's own target, which it returns (null when none is pending) for the result's
    /// update of that row to carry. Why: the acknowledgement usually rides with the result, and two updates of the same row in one write
    /// were a fifth of a result's statements. <paramref name="once"/> keeps what the write took, for its runs again (a transaction retried
    /// after a conflict with another node).
    /// </summary>
    public TargetProgress? TakeForResult(WriteContext context, string agentId, string actionId, JournalTake once) =>
        Take(agentId, actionId, once) is { } acks ? Write(context, agentId, acks, actionId) : null;

    protected override void WriteStatus(WriteContext context, TargetProgress status) => ledger.Progress(context, status);

    protected override void WriteAcknowledged(WriteContext context, string agentId, IReadOnlyList<PendingAck> acks) => Write(context, agentId, acks, resultActionId: null);

    private TargetProgress? Write(WriteContext context, string agentId, IReadOnlyList<PendingAck> acks, string? resultActionId)
    {
        // why: no agents row update; the acknowledged sequence is read back from the pushes' acknowledgement times at start. A push
        // acknowledged before has its target delivered already (both are written in one write), so the pushes this update marks name
        // every target the acknowledgement delivers.
        TargetProgress? own = null;
        foreach (var ack in acks)
        {
            foreach (var (createdMs, actionId) in MarkAcknowledged(context, agentId, ack))
            {
                metrics.DeliveryLatency(ack.AtMs - createdMs);
                if (actionId is null)
                {
                    continue;
                }

                var delivered = new TargetProgress(actionId, agentId, TaskState.Delivered, ack.Via, ack.AtMs);
                if (actionId == resultActionId)
                {
                    // why: the first acknowledgement's way and time are the delivery, as for every other target.
                    own ??= delivered;
                }
                else
                {
                    ledger.Progress(context, delivered);
                }
            }
        }

        return own;
    }

    private const string AcknowledgeReturning =
        "UPDATE pushes SET acked_at=@p3 WHERE agent_id=@p0 AND seq>@p1 AND seq<=@p2 AND acked_at IS NULL RETURNING created_at, action_id";

    private const string FindUnacknowledged =
        "SELECT rowid, created_at, action_id FROM pushes WHERE agent_id=@p0 AND seq>@p1 AND seq<=@p2 AND acked_at IS NULL";

    private const string AcknowledgeRow = "UPDATE pushes SET acked_at=@p1 WHERE rowid=@p0";

    // Marks the pushes of (AfterSeq, UpToSeq] not acknowledged yet, and returns when each was stored and for which action. Why two
    // statements on SQLite: there a RETURNING clause opens and closes an ephemeral table on every run (a page cache made and
    // cleared), which made this update, run once per result in a fan-out, the dearest of a result's statements; the same rows found
    // by the index and then updated by rowid cost less. On PostgreSQL the one statement saves a round trip.
    private static List<(long CreatedMs, string? ActionId)> MarkAcknowledged(WriteContext context, string agentId, PendingAck ack)
    {
        if (context.IsPostgres)
        {
            return context.Query(AcknowledgeReturning, static r => (r.GetInt64(0), r.IsDBNull(1) ? null : r.GetString(1)), agentId, ack.AfterSeq, ack.UpToSeq, ack.AtMs);
        }

        var rows = context.Query(
            FindUnacknowledged, static r => (RowId: r.GetInt64(0), CreatedMs: r.GetInt64(1), ActionId: r.IsDBNull(2) ? null : r.GetString(2)), agentId, ack.AfterSeq, ack.UpToSeq);
        var pushes = new List<(long CreatedMs, string? ActionId)>(rows.Count);
        foreach (var (rowId, createdMs, actionId) in rows)
        {
            context.Execute(AcknowledgeRow, rowId, ack.AtMs);
            pushes.Add((createdMs, actionId));
        }

        return pushes;
    }
}
