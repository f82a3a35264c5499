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
            var pushes = context.Query(
                "UPDATE pushes SET acked_at=@p3 WHERE agent_id=@p0 AND seq>@p1 AND seq<=@p2 AND acked_at IS NULL RETURNING created_at, action_id",
                static r => (CreatedMs: r.GetInt64(0), ActionId: r.IsDBNull(1) ? null : r.GetString(1)), agentId, ack.AfterSeq, ack.UpToSeq, ack.AtMs);
            foreach (var (createdMs, actionId) in pushes)
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
}
