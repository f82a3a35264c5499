using Tcm.Hosting.Storage;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Actions;

/// <summary>
/// The one owner of actions and their targets (tables <c>actions</c> and <c>action_targets</c>): nothing else creates, updates
/// or reads them. A target moves pending → delivered → running → succeeded / failed / timed-out; a late acknowledgement or
/// progress report never moves it back. A pending target becomes expired at its action's not-after (<see cref="ExpireDue"/>), a pending or
/// delivered one cancelled when an administrator cancels its action (<see cref="Cancel"/>); neither is changed by a later result.
/// <para>
/// Writes come in two forms. Those taking a <see cref="WriteContext"/> run inside the caller's write, because the action's rows
/// must commit together with the caller's own (the pushes that carry a new action, the stored result that ends a target).
/// <see cref="Post"/> queues progress nobody waits for.
/// </para>
/// </summary>
internal sealed partial class ActionLedger(TcmStore store)
{
    /// <summary>
    /// Tells <paramref name="changed"/> of each target whose state (or result count) a write changed, once that write committed and
    /// never before, in commit order, on the store's writer (so it must be quick). The state is the text the target holds, so a
    /// state the ledger learns later reaches the listener as it is. One listener: the action event streams.
    /// </summary>
    public void OnTargetsChanged(Action<IReadOnlyList<TargetStateChange>> changed) => store.WatchTargetStates(changed);

    /// <summary>
    /// Whether the listener is told of changes (on at start): off while nobody needs them. Turned on, it completes once every write that
    /// ran while it was off has committed, so a read of the actions started after it misses none of them (<see cref="TcmStore.CaptureTargetStatesAsync"/>).
    /// </summary>
    public Task HearTargetsAsync(bool on, CancellationToken cancellationToken) => store.CaptureTargetStatesAsync(on, cancellationToken);

    /// <summary>
    /// Creates an action with one pending target per agent, in one statement over the list of agent ids: an array on PostgreSQL (a
    /// statement per target was a round trip per target there), a JSON list on SQLite (<see cref="SqliteJsonList"/>: a statement per
    /// target was 2,000 executions before a fan-out's first push could go out).
    /// </summary>
    public void Create(WriteContext ctx, NewAction action, long createdAtMs, IEnumerable<string> agentIds)
    {
        ctx.Defer("INSERT INTO actions(id, kind, created_at, request, not_after) VALUES(@p0,@p1,@p2,@p3,@p4)",
            action.Id, action.Kind, createdAtMs, action.RequestJson, action.NotAfter?.ToUnixTimeMilliseconds());
        if (ctx.IsPostgres)
        {
            // why the cast: the ids are one parameter (an array), not the parameter list.
            ctx.Defer("INSERT INTO action_targets(action_id, agent_id, status) SELECT @p0, unnest(@p1::text[]), 'pending'", action.Id, (object)agentIds.ToArray());
            return;
        }

        ctx.Execute("INSERT INTO action_targets(action_id, agent_id, status) SELECT @p0, value, 'pending' FROM json_each(@p1)", action.Id, SqliteJsonList.Of(agentIds));
    }

    /// <summary>Applies a delivered or running report; other states are ignored (a final state arrives with its result, <see cref="Complete"/>).</summary>
    public void Progress(WriteContext ctx, TargetProgress progress)
    {
        if (progress.State == TaskState.Delivered)
        {
            ctx.Defer(
                """
                UPDATE action_targets SET status = CASE WHEN status = 'pending' THEN 'delivered' ELSE status END,
                    delivered_via = COALESCE(delivered_via, @p2), delivered_at = COALESCE(delivered_at, @p3)
                WHERE action_id = @p0 AND agent_id = @p1
                """,
                progress.ActionId, progress.AgentId, progress.Via, progress.AtMs);
        }
        else if (progress.State == TaskState.Running)
        {
            ctx.Defer(
                """
                UPDATE action_targets SET status='running', delivered_via = COALESCE(delivered_via, @p2), delivered_at = COALESCE(delivered_at, @p3)
                WHERE action_id=@p0 AND agent_id=@p1 AND status IN ('pending','delivered')
                """,
                progress.ActionId, progress.AgentId, progress.Via, progress.AtMs);
        }
    }

    /// <summary>Queues progress reports in one write nobody waits for; a failure is logged as <paramref name="what"/>.</summary>
    public void Post(IReadOnlyList<TargetProgress> items, string what) =>
        store.Writer.Post(
            ctx =>
            {
                foreach (var item in items)
                {
                    Progress(ctx, item);
                }
            },
            what);

    /// <summary>
    /// A result ended the target: its final state, output and exit code; <see cref="ActionTargetStatus.ResultCount"/> counts results.
    /// <paramref name="delivery"/>: the target's delivery written in the same update (<see cref="TargetProgress.Via"/> and
    /// <see cref="TargetProgress.AtMs"/> fill a missing one, as <see cref="Progress"/> does); a delivery still missing then is dated at completion.
    /// </summary>
    public void Complete(WriteContext ctx, string actionId, string agentId, TaskState state, long atMs, string? output, int? exitCode, TargetProgress? delivery = null) =>
        ctx.Defer(
            """
            UPDATE action_targets SET status=CASE WHEN status IN ('expired','cancelled') THEN status ELSE @p2 END,
                completed_at=@p3, output=@p4, exit_code=@p5, result_count=result_count+1,
                delivered_via=COALESCE(delivered_via,@p6), delivered_at=COALESCE(delivered_at,@p7,@p3)
            WHERE action_id=@p0 AND agent_id=@p1
            """,
            actionId, agentId, StateText(state), atMs, output, exitCode, delivery?.Via, delivery?.AtMs);

    /// <summary>An action with each target's progress, targets by agent id; null when there is no such action.</summary>
    public ActionStatus? Find(string actionId, Func<string, string> computerNameOf)
    {
        var action = store.Query("SELECT kind, created_at FROM actions WHERE id=@p0", r => (Kind: r.GetString(0), CreatedAt: r.GetInt64(1)), actionId);
        if (action.Count == 0)
        {
            return null;
        }

        var plan = WavePlanOf(actionId);
        static DateTimeOffset? Time(System.Data.Common.DbDataReader r, int i) => r.IsDBNull(i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));
        var targets = store.Query(
            "SELECT agent_id, status, delivered_via, delivered_at, completed_at, output, exit_code, result_count FROM action_targets WHERE action_id=@p0 ORDER BY agent_id",
            r => new ActionTargetStatus
            {
                AgentId = r.GetString(0),
                ComputerName = computerNameOf(r.GetString(0)),
                State = ParseState(r.GetString(1)),
                DeliveredVia = r.IsDBNull(2) ? null : r.GetString(2),
                DeliveredAt = Time(r, 3),
                CompletedAt = Time(r, 4),
                Output = r.IsDBNull(5) ? null : r.GetString(5),
                ExitCode = r.IsDBNull(6) ? null : r.GetInt32(6),
                ResultCount = r.GetInt32(7),
            },
            actionId);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var state in Enum.GetValues<TaskState>())
        {
            counts[StateText(state)] = 0;
        }

        foreach (var target in targets)
        {
            counts[StateText(target.State)]++;
        }

        return WithWaves(
            new ActionStatus
            {
                ActionId = actionId,
                Kind = action[0].Kind,
                CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(action[0].CreatedAt),
                Counts = counts,
                Targets = targets,
            },
            plan);
    }

    /// <summary>
    /// Marks the targets still pending of every action whose not-after is at or before <paramref name="nowMs"/> expired, once per action.
    /// Returns the actions swept and how many targets each lost.
    /// </summary>
    public List<(string ActionId, int Expired)> ExpireDue(WriteContext ctx, long nowMs)
    {
        var due = ctx.Query(
            "UPDATE actions SET expired_at=@p0 WHERE not_after IS NOT NULL AND expired_at IS NULL AND not_after <= @p0 RETURNING id",
            r => r.GetString(0), nowMs);
        return [.. due.Select(id => (id, ctx.Execute(
            "UPDATE action_targets SET status='expired', completed_at=@p1 WHERE action_id=@p0 AND status='pending'", id, nowMs)))];
    }

    /// <summary>The earliest not-after of an action not swept yet (<see cref="ExpireDue"/>); null when there is none.</summary>
    public DateTimeOffset? NextNotAfter() =>
        store.Query("SELECT MIN(not_after) FROM actions WHERE not_after IS NOT NULL AND expired_at IS NULL", r => r.IsDBNull(0) ? (long?)null : r.GetInt64(0)) is [{ } ms]
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;

    /// <summary>
    /// An administrator cancelled the action: its pending and delivered targets become cancelled; running ones stay running until their
    /// agent reports. Returns each target that was not final, by its state before, or null when there is no such action.
    /// </summary>
    public List<(string AgentId, TaskState Before)>? Cancel(WriteContext ctx, string actionId, long atMs)
    {
        if (ctx.Execute("UPDATE actions SET cancelled_at=COALESCE(cancelled_at, @p1) WHERE id=@p0", actionId, atMs) == 0)
        {
            return null;
        }

        var open = ctx.Query(
            "SELECT agent_id, status FROM action_targets WHERE action_id=@p0 AND status IN ('pending','delivered','running')",
            r => (r.GetString(0), ParseState(r.GetString(1))), actionId);
        ctx.Execute("UPDATE action_targets SET status='cancelled', completed_at=@p1 WHERE action_id=@p0 AND status IN ('pending','delivered')", actionId, atMs);
        return open;
    }

    /// <summary>The targets still pending of every action of a kind.</summary>
    public HashSet<(string ActionId, string AgentId)> PendingTargets(string kind) =>
        [.. store.Query(
            "SELECT t.action_id, t.agent_id FROM action_targets t JOIN actions a ON a.id = t.action_id WHERE a.kind = @p0 AND t.status = 'pending'",
            r => (r.GetString(0), r.GetString(1)),
            kind)];

    /// <summary>The agents whose target of action <paramref name="actionId"/> is still pending (not delivered, not finished).</summary>
    public HashSet<string> PendingAgents(string actionId) =>
        [.. store.Query("SELECT agent_id FROM action_targets WHERE action_id=@p0 AND status='pending'", r => r.GetString(0), actionId)];

    /// <summary>The kebab name of a task state, as the store and the API use it.</summary>
    public static string StateText(TaskState state) => state switch
    {
        TaskState.Pending => "pending",
        TaskState.Delivered => "delivered",
        TaskState.Running => "running",
        TaskState.Succeeded => "succeeded",
        TaskState.Failed => "failed",
        TaskState.TimedOut => "timed-out",
        TaskState.Expired => "expired",
        TaskState.Cancelled => "cancelled",
        TaskState.NotSent => "not-sent",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>The task state of a kebab name from the store.</summary>
    public static TaskState ParseState(string text) => text switch
    {
        "pending" => TaskState.Pending,
        "delivered" => TaskState.Delivered,
        "running" => TaskState.Running,
        "succeeded" => TaskState.Succeeded,
        "failed" => TaskState.Failed,
        "timed-out" => TaskState.TimedOut,
        "expired" => TaskState.Expired,
        "cancelled" => TaskState.Cancelled,
        "not-sent" => TaskState.NotSent,
        _ => throw new ArgumentOutOfRangeException(nameof(text), text, "unknown task state"),
    };
}
