using Tcm.Channels.Delivery;
using Tcm.Protocol;
using Tcm.TaskServer.Diagnostics;
using Tcm.TaskServer.Store;

namespace Tcm.TaskServer.Agents;

/// <summary>
/// The Task Server's coalesced delivery progress (<see cref="CoalescedDeliveryJournal{TContext, TStatus}"/>): an acknowledgement
/// drops the pushes it covers and queues a <c>delivered</c> status for the NS per push, a <c>running</c> status is queued for the NS.
/// <paramref name="committed"/> runs after each flush committed (the NS link forwards what it wrote).
/// </summary>
internal sealed class TsDeliveryJournal(TsStore store, TsOutbox outbox, TsMetrics metrics, Action committed)
    : CoalescedDeliveryJournal<TsStore, TaskServerStatusItem>((write, what) => store.Post(write, what, committed))
{
    /// <summary>
    /// Inside the write of <paramref name="agentId"/>'s result for task <paramref name="taskId"/>: writes the agent's pending
    /// acknowledgements, except the delivery of the result's own push, which it returns (null when none is pending) for the result to
    /// carry to the NS. Why: the acknowledgement usually rides with the result, and a <c>delivered</c> status of its own was an outbox
    /// row, its JSON, and an update of the NS's target row more per task.
    /// </summary>
    public TaskServerDelivery? TakeForResult(TsStore context, string agentId, string taskId) =>
        Take(agentId, taskId) is { } acks ? Write(context, agentId, acks, taskId) : null;

    protected override void WriteStatus(TsStore context, TaskServerStatusItem status) => outbox.Add(context, status);

    protected override void WriteAcknowledged(TsStore context, string agentId, IReadOnlyList<PendingAck> acks) => Write(context, agentId, acks, resultTaskId: null);

    private TaskServerDelivery? Write(TsStore context, string agentId, IReadOnlyList<PendingAck> acks, string? resultTaskId)
    {
        // why: no agents row update; the acknowledged sequence is read back from the pushes left at start (TaskDelivery's constructor).
        // Every push up to the acknowledged one goes, so a push an earlier failed flush left behind is reported here.
        TaskServerDelivery? own = null;
        foreach (var ack in acks)
        {
            var at = DateTimeOffset.FromUnixTimeMilliseconds(ack.AtMs);
            var delivered = context.Query(
                "DELETE FROM pushes WHERE agent_id=@p0 AND seq<=@p1 RETURNING action_id, created_at",
                static r => (ActionId: r.GetString(0), CreatedMs: r.GetInt64(1)), agentId, ack.UpToSeq);
            foreach (var (actionId, createdMs) in delivered)
            {
                metrics.DeliveryLatency(ack.AtMs - createdMs);
                if (actionId == resultTaskId)
                {
                    // why: the first acknowledgement's way and time are the delivery, as for every other push.
                    own ??= new TaskServerDelivery(ack.Via, at);
                }
                else
                {
                    outbox.Add(context, new TaskServerStatusItem { AgentId = agentId, TaskId = actionId, State = TaskState.Delivered, Via = ack.Via, At = at });
                }
            }
        }

        return own;
    }
}
