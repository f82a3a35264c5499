using Tcm.Lab.Admin;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using Tcm.Simulator.Reports;

namespace Tcm.Simulator.Engine;

/// <summary>
/// Follows the pushes a run made (task, policy, inventory) through the admin API until every target has settled,
/// so expectations and the report read per-agent delivery and completion times as the server recorded them.
/// </summary>
internal sealed class ActionTracker
{
    private readonly AdminClient _admin;
    private readonly Dictionary<string, Tracked> _byEvent = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public ActionTracker(AdminClient admin) => _admin = admin;

    public void Add(string eventId, string kind, string? command, ActionCreated created, double createdAt)
    {
        lock (_gate)
        {
            _byEvent[eventId] = new Tracked(eventId, kind, command, created, createdAt);
        }
    }

    public IReadOnlyList<Tracked> All
    {
        get
        {
            lock (_gate)
            {
                return _byEvent.Values.ToArray();
            }
        }
    }

    public Tracked? Find(string eventId)
    {
        lock (_gate)
        {
            return _byEvent.GetValueOrDefault(eventId);
        }
    }

    public bool AllSettled => All.All(t => t.Settled);

    /// <summary>Refreshes every action that has not settled yet; a failed read is retried at the next refresh.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        foreach (var tracked in All.Where(t => !t.Settled))
        {
            try
            {
                tracked.Status = await _admin.GetActionAsync(tracked.Created.ActionId, ct);
            }
            catch (HttpRequestException)
            {
                // The server may be down on purpose (a scenario stops it); the next refresh reads again.
            }
            catch (AdminApiException)
            {
            }
        }
    }

    internal sealed class Tracked(string eventId, string kind, string? command, ActionCreated created, double createdAt)
    {
        public string EventId { get; } = eventId;
        public string Kind { get; } = kind;
        public string? Command { get; } = command;
        public ActionCreated Created { get; } = created;
        /// <summary>Seconds since the run started.</summary>
        public double CreatedAt { get; } = createdAt;
        public ActionStatus? Status { get; set; }

        /// <summary>Policy pushes are done once delivered; tasks and inventory once they have a result; a target the brake kept back (not-sent) is done too.</summary>
        public bool Settled => Status is { } s && s.Targets.All(t => IsFinal(t.State) || t.State == TaskState.NotSent);

        public int Targets => Status?.Targets.Count ?? Created.TargetCount;

        /// <summary>Whether a target in <paramref name="state"/> got its push (a target the brake kept back, not-sent, did not).</summary>
        public static bool WasDelivered(TaskState state) =>
            state is TaskState.Delivered or TaskState.Running or TaskState.Succeeded or TaskState.Failed or TaskState.TimedOut;

        /// <summary>Whether the push reached the target: its delivery is recorded, or its state says so.</summary>
        public static bool Reached(ActionTargetStatus target) => target.DeliveredAt is not null || WasDelivered(target.State);

        public bool IsFinal(TaskState state) => Kind == "policy"
            ? WasDelivered(state)
            : state is TaskState.Succeeded or TaskState.Failed or TaskState.TimedOut;

        /// <summary>Milliseconds from the push to delivery (acknowledged) per target that got there.</summary>
        public IEnumerable<double> DeliveredLatencies() => Latencies(t => t.DeliveredAt);

        /// <summary>Milliseconds from the push to its result per target that has one.</summary>
        public IEnumerable<double> CompletedLatencies() => Latencies(t => IsFinal(t.State) ? t.CompletedAt ?? t.DeliveredAt : null);

        /// <summary>Share of targets that reached <paramref name="reached"/> within <paramref name="within"/> of the push (or at all).</summary>
        public (int Count, int Targets) CountWithin(Func<ActionTargetStatus, DateTimeOffset?> reached, TimeSpan? within)
        {
            if (Status is not { } s)
            {
                return (0, Created.TargetCount);
            }

            var count = s.Targets.Count(t => reached(t) is { } at && (within is null || at - s.CreatedAt <= within.Value));
            return (count, s.Targets.Count);
        }

        public ActionReport ToReport() => new()
        {
            Id = EventId,
            Kind = Kind,
            Command = Command,
            CreatedAt = Math.Round(CreatedAt, 2),
            Targets = Targets,
            Delivered = Status?.Targets.Count(Reached) ?? 0,
            DeliveredOverChannel = Status?.Targets.Count(t => t.DeliveredVia == "persistent") ?? 0,
            Completed = Status?.Targets.Count(t => IsFinal(t.State)) ?? 0,
            Succeeded = Status?.Targets.Count(t => t.State == TaskState.Succeeded || (Kind == "policy" && WasDelivered(t.State))) ?? 0,
            Failed = Status?.Targets.Count(t => t.State == TaskState.Failed) ?? 0,
            TimedOut = Status?.Targets.Count(t => t.State == TaskState.TimedOut) ?? 0,
            NotSent = Status?.Targets.Count(t => t.State == TaskState.NotSent) ?? 0,
            Duplicates = Status?.Targets.Count(t => t.ResultCount > 1) ?? 0,
            Waves = Status?.Waves is { } waves ? WavesReport.From(waves, Status.CreatedAt - TimeSpan.FromSeconds(CreatedAt)) : null,
            DeliveredLatency = LatencySummary.From(DeliveredLatencies()),
            CompletedLatency = LatencySummary.From(CompletedLatencies()),
        };

        // why: a target of a push in waves is measured from its own wave, not from the push: the wait for its wave is the plan, not latency.
        private IEnumerable<double> Latencies(Func<ActionTargetStatus, DateTimeOffset?> at) =>
            Status is { } s
                ? s.Targets.Select(t => (At: at(t), From: SentAt(s, t))).Where(x => x.At is not null).Select(x => Math.Max(0, (x.At!.Value - x.From).TotalMilliseconds))
                : [];

        private static DateTimeOffset SentAt(ActionStatus status, ActionTargetStatus target) =>
            status.Waves is { } waves && target.Wave is { } wave && wave <= waves.Items.Count && waves.Items[wave - 1].StartedAt is { } started ? started : status.CreatedAt;
    }
}
