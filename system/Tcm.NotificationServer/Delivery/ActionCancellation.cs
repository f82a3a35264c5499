using Microsoft.Extensions.Logging;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Store;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Delivery;

/// <summary>
/// An administrator cancels an action. In one write the <see cref="ActionLedger"/> marks its pending and delivered targets cancelled, and
/// every task push of it an agent has not acknowledged is stored again with its not-after at the cancel, so an agent that fetches it later
/// (an HTTP poller, an agent away) does not run it. Then each agent with an open channel whose hello accepted <c>task.cancel</c> gets one:
/// it stops the task if it runs or waits, and reports it cancelled.
/// </summary>
internal sealed partial class ActionCancellation(TcmStore store, ActionLedger ledger, AgentDirectory directory, TimeProvider time, ILogger<ActionCancellation> logger)
{
    /// <summary>The Task Servers' part of a cancel of a <c>ts-task</c> action. Set by the Task Server registry, which sits above this folder; null: no Task Servers.</summary>
    public ITaskServerCancel? TaskServerCancel { get; set; }

    /// <summary>Cancels action <paramref name="actionId"/>; null when there is no such action.</summary>
    public async Task<ActionCancelled?> CancelAsync(string actionId, CancellationToken cancellationToken)
    {
        if (ledger.Find(actionId, static _ => "") is not { } action)
        {
            return null;
        }

        var at = time.GetUtcNow();
        var disarmed = DisarmedPush(action, at);
        var taskServers = action.Kind == TaskServerActionKinds.TsTask ? TaskServerCancel : null;
        var (open, sent) = await store.Writer.WriteAsync(ctx =>
        {
            var targets = ledger.Cancel(ctx, actionId, at.ToUnixTimeMilliseconds());
            if (targets is not null && disarmed is not null)
            {
                Disarm(ctx, actionId, disarmed, targets.Where(t => t.Before == TaskState.Pending).Select(t => t.AgentId));
            }

            var held = targets is not null && taskServers is not null ? taskServers.Store(ctx, actionId, [.. targets.Select(t => t.AgentId)], at.ToUnixTimeMilliseconds()) : 0;
            return (targets, held);
        }, cancellationToken).ConfigureAwait(false);
        if (open is null)
        {
            return null;
        }

        taskServers?.Committed(actionId);

        var cancel = new TaskCancelMessage { TaskId = actionId, Reason = TaskCancelMessage.ByAdministrator };
        foreach (var (agentId, _) in open)
        {
            if (directory.TryGet(agentId, out var agent) && agent.AcceptsTaskCancel && agent.Channel is { Ready: true } channel)
            {
                channel.Send(cancel);
                sent++;
            }
        }

        var cancelled = open.Count(t => t.Before != TaskState.Running);
        var running = open.Count - cancelled;
        Log.Cancelled(logger, actionId, cancelled, sent, running);
        return new ActionCancelled(actionId, cancelled, sent, running);
    }

    /// <summary>The task push of a <c>task</c> action with its not-after at <paramref name="at"/>, read from one pending target's stored push; null when there is none.</summary>
    private TaskPushMessage? DisarmedPush(ActionStatus action, DateTimeOffset at)
    {
        if (action.Kind != "task" || action.Targets.FirstOrDefault(t => t.State == TaskState.Pending) is not { } pending)
        {
            return null;
        }

        var stored = store.Query("SELECT payload FROM pushes WHERE agent_id=@p0 AND action_id=@p1 LIMIT 1", r => (byte[])r.GetValue(0), pending.AgentId, action.ActionId);
        return stored is [var payload] && MessageCodec.Decode(payload, int.MaxValue).Message is TaskPushMessage push ? push with { NotAfter = at } : null;
    }

    /// <summary>Stores again, with the cancel's not-after, each task push of the action these agents have not acknowledged.</summary>
    private static void Disarm(WriteContext ctx, string actionId, TaskPushMessage disarmed, IEnumerable<string> agentIds)
    {
        PushEncoding? encoding = null;
        foreach (var agentId in agentIds)
        {
            foreach (var seq in ctx.Query("SELECT seq FROM pushes WHERE agent_id=@p0 AND action_id=@p1 AND acked_at IS NULL", r => r.GetInt64(0), agentId, actionId))
            {
                encoding ??= new PushEncoding(disarmed);
                ctx.Execute("UPDATE pushes SET payload=@p2 WHERE agent_id=@p0 AND seq=@p1", agentId, seq, encoding.For(seq));
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Action {ActionId} cancelled: {Cancelled} targets not started are cancelled, {Sent} agents told to stop, {Running} were running")]
        public static partial void Cancelled(ILogger logger, string actionId, int cancelled, int sent, int running);
    }
}

/// <summary>What a cancel of a <c>ts-task</c> action does on the Task Servers' side (the registry sits above this folder).</summary>
internal interface ITaskServerCancel
{
    /// <summary>
    /// In the cancel's own write (which may run more than once, so it only writes): withdraws the action's tasks no Task Server accepted,
    /// and keeps a cancel in the store for each of <paramref name="agentIds"/>' tasks a Task Server holds; returns how many those are.
    /// </summary>
    int Store(WriteContext ctx, string actionId, IReadOnlyCollection<string> agentIds, long atMs);

    /// <summary>After that write committed: the Task Servers that hold the tasks get the cancel with their next work, whichever node they call.</summary>
    void Committed(string actionId);
}
