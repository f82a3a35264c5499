using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Actions;

/// <summary>
/// An action that goes out in waves (tables <c>action_wave_plans</c>, <c>action_waves</c> and <c>action_targets.wave</c>): its plan,
/// which wave each target is in, when each wave was sent, and the brake that marks the targets of the waves not sent
/// <c>not-sent</c>. A target waiting for its wave is <c>pending</c> without a push; the store alone says what is left to send, so a
/// restarted server goes on where it stopped (<see cref="OpenWaves"/>).
/// </summary>
internal sealed partial class ActionLedger
{
    /// <summary>Records the plan and each wave's targets of an action created in the same write (<see cref="Create"/>); no wave is sent yet.</summary>
    public void CreateWaves(WriteContext ctx, string actionId, WavePlan plan, IReadOnlyList<IReadOnlyList<string>> waves)
    {
        ctx.Defer("INSERT INTO action_wave_plans(action_id, plan) VALUES(@p0,@p1)", actionId, TcmStore.Serialize(plan, ProtocolJsonContext.Default.WavePlan));
        for (var i = 0; i < waves.Count; i++)
        {
            ctx.Defer("INSERT INTO action_waves(action_id, wave, targets) VALUES(@p0,@p1,@p2)", actionId, i + 1, waves[i].Count);
            foreach (var agentId in waves[i])
            {
                ctx.Defer("UPDATE action_targets SET wave=@p2 WHERE action_id=@p0 AND agent_id=@p1", actionId, agentId, i + 1);
            }
        }
    }

    /// <summary>A wave was sent: its pushes are stored in the same write. False when it had been sent before (by another node).</summary>
    public bool WaveStarted(WriteContext ctx, string actionId, int wave, long atMs) =>
        ctx.Execute("UPDATE action_waves SET started_at=@p2 WHERE action_id=@p0 AND wave=@p1 AND started_at IS NULL", actionId, wave, atMs) == 1;

    /// <summary>
    /// Makes <paramref name="node"/> the one that sends the action's waves until <paramref name="untilMs"/>, unless another node's lease
    /// still holds at <paramref name="nowMs"/> or the brake stopped them. True when <paramref name="node"/> drives it now.
    /// </summary>
    public bool ClaimWaves(WriteContext ctx, string actionId, string node, long nowMs, long untilMs) =>
        ctx.Execute(
            "UPDATE action_wave_plans SET driver=@p1, lease_until=@p3 WHERE action_id=@p0 AND stopped_at IS NULL AND (driver IS NULL OR driver=@p1 OR lease_until<@p2)",
            actionId, node, nowMs, untilMs) == 1;

    /// <summary>Extends <paramref name="node"/>'s lease on the action's waves; false when another node took them over.</summary>
    public bool RenewWaves(WriteContext ctx, string actionId, string node, long untilMs) =>
        ctx.Execute("UPDATE action_wave_plans SET lease_until=@p2 WHERE action_id=@p0 AND driver=@p1", actionId, node, untilMs) == 1;

    /// <summary>The node stops: the waves it drove are free for another node to take at once.</summary>
    public int ReleaseWaves(WriteContext ctx, string node) =>
        ctx.Execute("UPDATE action_wave_plans SET driver=NULL, lease_until=NULL WHERE driver=@p0", node);

    /// <summary>
    /// The brake: every target still pending in a wave not sent becomes <c>not-sent</c> with <paramref name="reason"/> as its output
    /// and the brake's time as its completion, and the plan records when and why. Returns how many targets it marked.
    /// </summary>
    public int StopWaves(WriteContext ctx, string actionId, long atMs, string reason)
    {
        ctx.Execute("UPDATE action_wave_plans SET stopped_at=@p1, stop_reason=@p2 WHERE action_id=@p0 AND stopped_at IS NULL", actionId, atMs, reason);
        return ctx.Execute(
            """
            UPDATE action_targets SET status='not-sent', output=@p1, completed_at=@p2
            WHERE action_id=@p0 AND status='pending'
              AND wave IN (SELECT wave FROM action_waves WHERE action_id=@p0 AND started_at IS NULL)
            """,
            actionId, reason, atMs);
    }

    /// <summary>The agents of a wave still pending (a target another change moved on, e.g. cancelled, is not sent).</summary>
    public List<string> PendingInWave(string actionId, int wave) =>
        store.Query("SELECT agent_id FROM action_targets WHERE action_id=@p0 AND wave=@p1 AND status='pending' ORDER BY agent_id", r => r.GetString(0), actionId, wave);

    /// <summary>What the brake weighs: the targets of the waves sent so far, and how many of them failed or timed out.</summary>
    public (int Sent, int Failed) WaveTally(string actionId) =>
        store.Query(
            """
            SELECT COUNT(*), COALESCE(SUM(CASE WHEN t.status IN ('failed','timed-out') THEN 1 ELSE 0 END), 0) FROM action_targets t
            JOIN action_waves w ON w.action_id = t.action_id AND w.wave = t.wave
            WHERE t.action_id=@p0 AND w.started_at IS NOT NULL
            """,
            r => (r.GetInt32(0), r.GetInt32(1)),
            actionId)[0];

    /// <summary>Every action with waves left to send and no brake tripped, with what sending them needs.</summary>
    public List<OpenWaves> OpenWaves() =>
        store.Query(
            """
            SELECT a.id, a.kind, a.request, a.created_at, p.plan,
                   (SELECT COUNT(*) FROM action_waves w WHERE w.action_id = a.id),
                   (SELECT MIN(wave) FROM action_waves w WHERE w.action_id = a.id AND w.started_at IS NULL),
                   (SELECT MAX(started_at) FROM action_waves w WHERE w.action_id = a.id)
            FROM action_wave_plans p JOIN actions a ON a.id = p.action_id
            WHERE p.stopped_at IS NULL
              AND EXISTS (SELECT 1 FROM action_waves w WHERE w.action_id = a.id AND w.started_at IS NULL)
            """,
            r => new OpenWaves(
                r.GetString(0),
                r.GetString(1),
                r.IsDBNull(2) ? null : r.GetString(2),
                r.GetInt64(3),
                TcmStore.Deserialize(r.GetString(4), ProtocolJsonContext.Default.WavePlan),
                r.GetInt32(5),
                r.GetInt32(6),
                r.IsDBNull(7) ? r.GetInt64(3) : r.GetInt64(7)));

    /// <summary>
    /// The action's wave plan (none when it does not go out in waves), read before its targets: the brake stops the plan and marks the
    /// targets in one commit, so targets read after a stopped plan show what it marked.
    /// </summary>
    private List<(WavePlan Plan, long? StoppedAt, string? Reason)> WavePlanOf(string actionId) =>
        store.Query(
            "SELECT plan, stopped_at, stop_reason FROM action_wave_plans WHERE action_id=@p0",
            r => (Plan: TcmStore.Deserialize(r.GetString(0), ProtocolJsonContext.Default.WavePlan), StoppedAt: r.IsDBNull(1) ? (long?)null : r.GetInt64(1), Reason: r.IsDBNull(2) ? null : r.GetString(2)),
            actionId);

    /// <summary><paramref name="status"/> with its waves and each target's wave, when the action goes out in waves (<paramref name="plan"/>).</summary>
    private ActionStatus WithWaves(ActionStatus status, List<(WavePlan Plan, long? StoppedAt, string? Reason)> plan)
    {
        if (plan.Count == 0)
        {
            return status;
        }

        var waveOf = store.Query(
            "SELECT agent_id, wave FROM action_targets WHERE action_id=@p0 AND wave IS NOT NULL",
            r => (Agent: r.GetString(0), Wave: r.GetInt32(1)),
            status.ActionId).ToDictionary(t => t.Agent, t => t.Wave, StringComparer.Ordinal);
        var targets = status.Targets.Select(t => waveOf.TryGetValue(t.AgentId, out var wave) ? t with { Wave = wave } : t).ToList();
        var waves = store.Query(
            "SELECT wave, targets, started_at FROM action_waves WHERE action_id=@p0 ORDER BY wave",
            r => (Number: r.GetInt32(0), Targets: r.GetInt32(1), StartedAt: r.IsDBNull(2) ? (long?)null : r.GetInt64(2)),
            status.ActionId);
        var items = waves.Select(w => new WaveStatus
        {
            Number = w.Number,
            Targets = w.Targets,
            StartedAt = w.StartedAt is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null,
            Counts = new SortedDictionary<string, int>(
                targets.Where(t => t.Wave == w.Number).GroupBy(t => StateText(t.State)).ToDictionary(g => g.Key, g => g.Count()),
                StringComparer.Ordinal),
        }).ToList();
        var (p, stoppedAt, reason) = plan[0];
        var lastStarted = waves.Where(w => w.StartedAt is not null).Select(w => w.StartedAt!.Value).DefaultIfEmpty(status.CreatedAt.ToUnixTimeMilliseconds()).Max();
        var left = stoppedAt is null && waves.Any(w => w.StartedAt is null);
        return status with
        {
            Targets = targets,
            Waves = new ActionWaves
            {
                State = stoppedAt is not null ? ActionWaves.Stopped : left ? ActionWaves.Sending : ActionWaves.Done,
                Plan = p,
                NextWaveAt = left ? DateTimeOffset.FromUnixTimeMilliseconds(lastStarted) + TimeSpan.FromSeconds(p.EverySeconds) : null,
                StoppedAt = stoppedAt is { } s ? DateTimeOffset.FromUnixTimeMilliseconds(s) : null,
                StopReason = reason,
                Items = items,
            },
        };
    }
}

/// <summary>
/// An action with waves left to send (<see cref="ActionLedger.OpenWaves"/>): its kind and admin request (to build its pushes again),
/// its plan, how many waves it has, the next one to send (from 1) and when the last one was sent (its creation when none was).
/// </summary>
internal sealed record OpenWaves(string ActionId, string Kind, string? RequestJson, long CreatedAtMs, WavePlan Plan, int WaveCount, int NextWave, long LastStartedAtMs);
