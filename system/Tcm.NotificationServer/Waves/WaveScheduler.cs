using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Tcm.Hosting.Signals;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Agents;
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
/// </summary>
internal sealed partial class WaveScheduler(
    ActionLedger ledger,
    DeliveryService delivery,
    AgentDirectory directory,
    ActionPushes pushes,
    TcmStore store,
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
        foreach (var open in ledger.OpenWaves())
        {
            var build = pushes.FromStored(open.Kind, open.ActionId, open.RequestJson, DateTimeOffset.FromUnixTimeMilliseconds(open.CreatedAtMs));
            _runs.TryAdd(open.ActionId, new Run(open.ActionId, open.Plan, open.WaveCount, build)
            {
                NextWave = open.NextWave,
                LastStartedAt = DateTimeOffset.FromUnixTimeMilliseconds(open.LastStartedAtMs),
            });
            Log.Resumed(logger, open.ActionId, open.NextWave, open.WaveCount);
        }

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
            if (directory.TryGet(id, out var agent))
            {
                agents.Add(agent);
            }
        }

        long startedMs = 0;
        var sent = await delivery.PushAsync(agents, run.Build, run.ActionId, (ctx, _, nowMs) =>
        {
            startedMs = nowMs;
            ledger.WaveStarted(ctx, run.ActionId, wave, nowMs);
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
    }
}
