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

    protected override void WriteStatus(WriteContext context, TargetProgress status) => ledger.Progress(context, status);

    protected override void WriteAcknowledged(WriteContext context, string agentId, IReadOnlyList<PendingAck> acks)
    {
        // why: no agents row update; the acknowledged sequence is read back from the pushes' acknowledgement times at start.
        foreach (var ack in acks)
        {
            ledger.MarkAcknowledged(context, agentId, ack.AfterSeq, ack.UpToSeq, ack.Via, ack.AtMs);
            var created = context.Query(
                "UPDATE pushes SET acked_at=@p3 WHERE agent_id=@p0 AND seq>@p1 AND seq<=@p2 AND acked_at IS NULL RETURNING created_at",
                static r => r.GetInt64(0), agentId, ack.AfterSeq, ack.UpToSeq, ack.AtMs);
            foreach (var createdMs in created)
            {
                metrics.DeliveryLatency(ack.AtMs - createdMs);
            }
        }
    }
}
