using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Tcm.Hosting.Signals;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Waves;

/// <summary>
/// Sends actions in waves (<see cref="WavePlan"/>): the first wave with the action's creation, each next one when it is due, on one
/// loop for every action (no timer or thread per action) that sleeps on the injected clock until the earliest due wave or brake
/// check. Every step is in the store first (<see cref="ActionLedger"/>): a wave's pushes and its start commit together, and the
/// brake marks the targets it did not send in one write, so a restarted server picks the open actions up again from the store and
/// sends their next wave when it is due (at once when it fell due while the server was down).
/// <para>
/// When nodes share the store, exactly one sends each action's waves: the node that created it, under a lease (<see cref="WaveDrivers"/>)
/// renewed every <see cref="WaveLease.Renewal"/>; every node looks as often for actions whose driver's lease ran out (or that a stopped node
/// gave up) and takes them. A wave's start is written only while it was not started and the lease is still this node's, in the write that
/// stores its pushes, so a wave is never sent twice and none is skipped, whichever node sends it.
/// </para>
/// </summary>
internal sealed partial class WaveScheduler(
    ActionLedger ledger,
    DeliveryService delivery,
    AgentDirectory directory,
    ActionPushes pushes,
    TcmStore store,
    INodeSignal nodes,
    WaveDrivers drivers,
    WaveLease lease,
    TimeProvider time,
    ILogger<WaveScheduler> logger) : BackgroundService
{
    /// <summary>How often the brake of an action with waves left is weighed between its waves (and always before a wave).</summary>
    internal static readonly TimeSpan BrakeCheckPeriod = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Run> _runs = new(StringComparer.Ordinal);
    private readonly WorkSignal _wake = new();

    // why: UTC ticks (-1 while working), so a reader on another thread never sees half of a DateTimeOffset.
    private long _sleepsUntilTicks = -1;

    /// <summary>Actions with waves left to send now.</summary>
    public int Open => _runs.Count;

    /// <summary>
    /// While the loop sleeps: until when on the injected clock (<see cref="DateTimeOffset.MaxValue"/> with no wave or brake check to
    /// come), its timer already armed; null while it works. A test moves a manual clock only once the loop sleeps.
    /// </summary>
    internal DateTimeOffset? SleepsUntil => Volatile.Read(ref _sleepsUntilTicks) is var ticks and >= 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>
    /// Creates <paramref name="action"/> for <paramref name="agents"/> cut into waves by <paramref name="plan"/> (in computer-name order)
    /// and sends the first wave, all in one write; the next waves follow on the scheduler's loop.
    /// </summary>
    public async Task<ActionCreated> StartAsync(NewAction action, IReadOnlyList<AgentRecord> agents, WavePlan plan, Func<AgentRecord, PushMessage> build, CancellationToken cancellationToken)
    {
        var ordered = agents.OrderBy(a => a.ComputerName, StringComparer.OrdinalIgnoreCase).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
        var waves = WavePlanner.Split(ordered, plan);
        IReadOnlyList<IReadOnlyList<string>> ids = [.. waves.Select(w => (IReadOnlyList<string>)[.. w.Select(a => a.Id)])];
        long startedMs = 0;
        var sent = await delivery.PushAsync(waves.Count > 0 ? waves[0] : [], build, action.Id, (ctx, _, nowMs) =>
        {
            startedMs = nowMs;
            ledger.Create(ctx, action, nowMs, ordered.Select(a => a.Id));
            ledger.CreateWaves(ctx, action.Id, plan, ids);
            ledger.WaveStarted(ctx, action.Id, 1, nowMs);
            if (nodes.Shared)
            {
                ledger.ClaimWaves(ctx, action.Id, drivers.Node, nowMs, drivers.UntilMs(nowMs));
            }
        }, cancellationToken).ConfigureAwait(false);
        Log.WaveSent(logger, action.Id, 1, waves.Count, waves.Count > 0 ? waves[0].Length : 0, sent);
        if (waves.Count > 1)
        {
            _runs[action.Id] = new Run(action.Id, plan, waves.Count, build) { NextWave = 2, LastStartedAt = DateTimeOffset.FromUnixTimeMilliseconds(startedMs) };
            _wake.Set();
        }

        return new ActionCreated(action.Id, action.Kind, ordered.Count, sent);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!nodes.Shared)
        {
            foreach (var open in ledger.OpenWaves())
            {
                Adopt(open);
            }
        }

        // why: a loop of its own, so the leases' clock does not change when the waves' loop sleeps until.
        var tending = nodes.Shared ? TendAsync(stoppingToken) : Task.CompletedTask;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var now = time.GetUtcNow();
                var wait = await StepAsync(stoppingToken).ConfigureAwait(false);
                var wake = _wake.WaitAsync(wait, time, stoppingToken);
                Volatile.Write(ref _sleepsUntilTicks, wait == Timeout.InfiniteTimeSpan ? DateTimeOffset.MaxValue.UtcTicks : (now + wait).UtcTicks);
                await wake.ConfigureAwait(false);
                Volatile.Write(ref _sleepsUntilTicks, -1);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await tending.ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (nodes.Shared)
        {
            try
            {
                // why: another node then takes these actions at its next look instead of waiting for the leases to run out.
                Log.Released(logger, await drivers.ReleaseAsync(cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or ObjectDisposedException or OperationCanceledException)
            {
                Log.ReleaseFailed(logger, ex);
            }
        }
    }

    /// <summary>Every <see cref="WaveLease.Renewal"/>, from the start: <see cref="TendLeasesAsync"/>.</summary>
    private async Task TendAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(lease.Renewal, time);
        try
        {
            do
            {
                await TendLeasesAsync(stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Renews this node's leases (leaving the actions another node took over), then takes the open actions no node drives.</summary>
    private async Task TendLeasesAsync(CancellationToken ct)
    {
        try
        {
            foreach (var lost in await drivers.RenewAsync([.. _runs.Keys], ct).ConfigureAwait(false))
            {
                Leave(lost);
            }

            var open = ledger.OpenWaves().Where(o => !_runs.ContainsKey(o.ActionId)).ToList();
            foreach (var taken in open.Count == 0 ? [] : await drivers.ClaimAsync(open, ct).ConfigureAwait(false))
            {
                Adopt(taken);
                _wake.Set();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.LeasesFailed(logger, ex);
        }
    }

    /// <summary>Goes on with a stored action's waves where the store says they stopped.</summary>
    private void Adopt(OpenWaves open)
    {
        var build = pushes.FromStored(open.Kind, open.ActionId, open.RequestJson, DateTimeOffset.FromUnixTimeMilliseconds(open.CreatedAtMs));
        if (_runs.TryAdd(open.ActionId, new Run(open.ActionId, open.Plan, open.WaveCount, build)
        {
            NextWave = open.NextWave,
            LastStartedAt = DateTimeOffset.FromUnixTimeMilliseconds(open.LastStartedAtMs),
        }))
        {
            Log.Resumed(logger, open.ActionId, open.NextWave, open.WaveCount);
        }
    }

    private void Leave(string actionId)
    {
        if (_runs.TryRemove(actionId, out _))
        {
            Log.TakenOver(logger, actionId);
        }
    }

    /// <summary>One pass over the open actions: the brake first, then the wave that is due. Returns how long to sleep.</summary>
    private async Task<TimeSpan> StepAsync(CancellationToken ct)
    {
        var wait = Timeout.InfiniteTimeSpan;
        foreach (var run in _runs.Values)
        {
            TimeSpan next;
            try
            {
                next = await StepAsync(run, ct).ConfigureAwait(false);
            }
            catch (WavesTakenOverException)
            {
                Leave(run.ActionId);
                continue;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.StepFailed(logger, run.ActionId, run.NextWave, ex);
                next = BrakeCheckPeriod;
            }

            if (next != Timeout.InfiniteTimeSpan && (wait == Timeout.InfiniteTimeSpan || next < wait))
            {
                wait = next;
            }
        }

        return wait;
    }

    private async Task<TimeSpan> StepAsync(Run run, CancellationToken ct)
    {
        if (run.Plan.StopAfterFailedCount is not null || run.Plan.StopAfterFailedPercent is not null)
        {
            var (sent, failed) = ledger.WaveTally(run.ActionId);
            if (WavePlanner.BrakeReason(run.Plan, sent, failed, run.NextWave - 1, run.WaveCount) is { } reason)
            {
                var atMs = time.GetUtcNow().ToUnixTimeMilliseconds();
                var marked = await store.Writer.WriteAsync(ctx => ledger.StopWaves(ctx, run.ActionId, atMs, reason), ct).ConfigureAwait(false);
                _runs.TryRemove(run.ActionId, out _);
                Log.Stopped(logger, run.ActionId, marked, reason);
                return Timeout.InfiniteTimeSpan;
            }
        }

        var every = TimeSpan.FromSeconds(run.Plan.EverySeconds);
        var now = time.GetUtcNow();
        if (now >= run.LastStartedAt + every)
        {
            await SendWaveAsync(run, ct).ConfigureAwait(false);
            if (run.NextWave > run.WaveCount)
            {
                _runs.TryRemove(run.ActionId, out _);
                return Timeout.InfiniteTimeSpan;
            }

            now = time.GetUtcNow();
        }

        var due = run.LastStartedAt + every - now;
        var braked = run.Plan.StopAfterFailedCount is not null || run.Plan.StopAfterFailedPercent is not null;
        return braked && due > BrakeCheckPeriod ? BrakeCheckPeriod : due < TimeSpan.Zero ? TimeSpan.Zero : due;
    }

    private async Task SendWaveAsync(Run run, CancellationToken ct)
    {
        var wave = run.NextWave;
        var agents = new List<AgentRecord>();
        foreach (var id in ledger.PendingInWave(run.ActionId, wave))
        {
            // why: with nodes sharing the store, a target may have registered on another node a moment ago.
            if (directory.TryGet(id, orFromStore: nodes.Shared, out var agent))
            {
                agents.Add(agent);
            }
        }

        long startedMs = 0;
        var sent = await delivery.PushAsync(agents, run.Build, run.ActionId, (ctx, _, nowMs) =>
        {
            startedMs = nowMs;
            // why: nodes share the store: the wave goes only if no node sent it and this node still drives the action; else its
            // pushes roll back with this write.
            if (!ledger.WaveStarted(ctx, run.ActionId, wave, nowMs) && nodes.Shared
                || nodes.Shared && !ledger.RenewWaves(ctx, run.ActionId, drivers.Node, drivers.UntilMs(nowMs)))
            {
                throw new WavesTakenOverException(run.ActionId);
            }
        }, ct).ConfigureAwait(false);
        run.LastStartedAt = DateTimeOffset.FromUnixTimeMilliseconds(startedMs);
        run.NextWave = wave + 1;
        Log.WaveSent(logger, run.ActionId, wave, run.WaveCount, agents.Count, sent);
    }

    /// <summary>An action with waves left: only the scheduler's loop changes it once it is added.</summary>
    private sealed class Run(string actionId, WavePlan plan, int waveCount, Func<AgentRecord, PushMessage> build)
    {
        public string ActionId { get; } = actionId;
        public WavePlan Plan { get; } = plan;
        public int WaveCount { get; } = waveCount;
        public Func<AgentRecord, PushMessage> Build { get; } = build;
        public int NextWave { get; set; }
        public DateTimeOffset LastStartedAt { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 480, Level = LogLevel.Information, Message = "Action {ActionId}: wave {Wave} of {Waves} sent to {Count} targets, {Sent} over a channel at once")]
        public static partial void WaveSent(ILogger logger, string actionId, int wave, int waves, int count, int sent);

        [LoggerMessage(EventId = 481, Level = LogLevel.Warning, Message = "Action {ActionId}: the brake stopped its waves, {Marked} targets not sent: {Reason}")]
        public static partial void Stopped(ILogger logger, string actionId, int marked, string reason);

        [LoggerMessage(EventId = 482, Level = LogLevel.Information, Message = "Action {ActionId}: resuming its waves at wave {Wave} of {Waves}")]
        public static partial void Resumed(ILogger logger, string actionId, int wave, int waves);

        [LoggerMessage(EventId = 483, Level = LogLevel.Error, Message = "Action {ActionId}: wave {Wave} could not be sent; trying again")]
        public static partial void StepFailed(ILogger logger, string actionId, int wave, Exception exception);

        [LoggerMessage(EventId = 484, Level = LogLevel.Information, Message = "Action {ActionId}: another node sends its waves now")]
        public static partial void TakenOver(ILogger logger, string actionId);

        [LoggerMessage(EventId = 485, Level = LogLevel.Information, Message = "Stopping: gave up the waves of {Count} actions to the other nodes")]
        public static partial void Released(ILogger logger, int count);

        [LoggerMessage(EventId = 486, Level = LogLevel.Warning, Message = "Stopping: could not give up this node's actions in waves; other nodes take them when the leases run out")]
        public static partial void ReleaseFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 487, Level = LogLevel.Error, Message = "Could not renew or take the leases of actions in waves; trying again")]
        public static partial void LeasesFailed(ILogger logger, Exception exception);
    }
}
