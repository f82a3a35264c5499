using System.Globalization;
using System.Text.Json.Serialization;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Reports;

/// <summary>
/// What a run produced: the scenario, the timeline as it happened, the fleet's modes over time, per-action latencies, traffic and
/// the expectations with their observed figures. Written as <c>report.json</c>, <c>report.md</c> and <c>report.html</c> by
/// <see cref="ReportWriter"/>. Times within the run are seconds since <see cref="StartedAt"/>; latencies are milliseconds.
/// </summary>
internal sealed record SimulationReport
{
    public required string Scenario { get; init; }
    public string? Description { get; init; }
    /// <summary>The scenario file as given on the command line.</summary>
    public string? ScenarioFile { get; init; }
    public required int Seed { get; init; }
    /// <summary>Agents in the whole fleet.</summary>
    public required int Agents { get; init; }
    /// <summary><c>i/N</c> when this process ran one shard.</summary>
    public string? Shard { get; init; }
    /// <summary><c>lab</c> or the external Notification Server's address.</summary>
    public string System { get; init; } = "lab";
    /// <summary>Whether the fleet ran in legacy (pure HTTP polling) mode.</summary>
    public bool Legacy { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset EndedAt { get; init; }
    /// <summary>Why the run ended: <c>completed</c> (timeline done), <c>duration</c> (hard stop), <c>cancelled</c>, or an error.</summary>
    public string EndReason { get; init; } = "completed";

    public IReadOnlyList<TimelineEntry> Timeline { get; init; } = [];
    /// <summary>The fleet sampled every second.</summary>
    public IReadOnlyList<ModeSample> Samples { get; init; } = [];
    /// <summary>How agents reconnected after each server start (and each event a <c>reconnected</c> expectation names).</summary>
    public IReadOnlyList<ReconnectSpread> Reconnects { get; init; } = [];
    /// <summary>Pushed actions (tasks, inventory, policy) and their latencies.</summary>
    public IReadOnlyList<ActionReport> Actions { get; init; } = [];
    public TrafficReport Traffic { get; init; } = new();
    /// <summary>The same fleet's traffic in legacy mode, when the scenario has <c>legacy: compare</c>.</summary>
    public TrafficReport? LegacyTraffic { get; init; }

    /// <summary>Traffic counted after an event happened, by event id, for expectations that measure a steady state.</summary>
    public IReadOnlyDictionary<string, TrafficReport> TrafficAfter { get; init; } = new Dictionary<string, TrafficReport>();

    /// <summary>The legacy run's traffic after the same events.</summary>
    public IReadOnlyDictionary<string, TrafficReport>? LegacyTrafficAfter { get; init; }
    public IReadOnlyList<ExpectationResult> Expectations { get; init; } = [];
    /// <summary>Anything a reader should know (warnings, skipped events, environment).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>What the fleet cost the simulator process (memory per agent), measured before the fleet stopped.</summary>
    public ProcessFigures? Process { get; init; }

    /// <summary>Wall-clock length of the run.</summary>
    [JsonIgnore]
    public TimeSpan Duration => EndedAt - StartedAt;

    /// <summary>True when every expectation held (and there was no run error).</summary>
    public bool Passed => Expectations.All(e => e.Passed) && EndReason is "completed" or "duration";
}

/// <summary>How a timeline event went.</summary>
internal enum EventOutcome
{
    /// <summary>Never triggered (the run ended first).</summary>
    Pending,
    /// <summary>Carried out.</summary>
    Done,
    /// <summary>Its condition did not hold within its timeout; it fired anyway.</summary>
    TimedOut,
    /// <summary>Not carried out (e.g. nothing selected).</summary>
    Skipped,
    /// <summary>The action failed (see <see cref="TimelineEntry.Detail"/>).</summary>
    Failed,
}

/// <summary>One timeline event as it happened.</summary>
internal sealed record TimelineEntry
{
    public required string Id { get; init; }
    /// <summary>The <c>do:</c> word.</summary>
    public required string Action { get; init; }
    /// <summary>The trigger as written, e.g. <c>at 30s</c>, <c>5s after ready</c>.</summary>
    public required string Trigger { get; init; }
    public string Selection { get; init; } = "all";
    /// <summary>When the action started, seconds into the run.</summary>
    public double? StartedAt { get; init; }
    /// <summary>When it was complete (after a ramp), seconds into the run.</summary>
    public double? EndedAt { get; init; }
    public EventOutcome Outcome { get; init; }
    /// <summary>Agents the action applied to.</summary>
    public int Agents { get; init; }
    public string? Detail { get; init; }
}

/// <summary>The fleet at one instant. NS connection counts; <c>Ts*</c> count the Task Server connection.</summary>
internal sealed record ModeSample
{
    /// <summary>Seconds into the run.</summary>
    public required double At { get; init; }
    /// <summary>Agents running (started, not stopped).</summary>
    public int Running { get; init; }
    public int Direct { get; init; }
    public int Cem { get; init; }
    /// <summary>Running agents that reach no server, plus agents not running.</summary>
    public int Offline { get; init; }
    /// <summary>Agents with the persistent channel open.</summary>
    public int Persistent { get; init; }
    /// <summary>Agents reaching their server over HTTP polling only.</summary>
    public int Http { get; init; }
    /// <summary>Task Server connections through the gateway.</summary>
    public int TsCem { get; init; }
    /// <summary>Task Server connections that are persistent.</summary>
    public int TsPersistent { get; init; }
    /// <summary>Simulated sockets open.</summary>
    public int OpenSockets { get; init; }
    /// <summary>With several Notification Server nodes: the persistent NS channels open to each node, by node name; null otherwise.</summary>
    public IReadOnlyDictionary<string, int>? PersistentByNode { get; init; }
}

/// <summary>A pushed action and its targets' progress.</summary>
internal sealed record ActionReport
{
    /// <summary>The timeline event id.</summary>
    public required string Id { get; init; }
    /// <summary><c>push-task</c>, <c>inventory-now</c> or <c>push-policy</c>.</summary>
    public required string Kind { get; init; }
    /// <summary>The task command, when a task.</summary>
    public string? Command { get; init; }
    /// <summary>Seconds into the run when the admin pushed it.</summary>
    public double CreatedAt { get; init; }
    public int Targets { get; init; }
    public int Delivered { get; init; }
    /// <summary>Delivered over the persistent channel (the rest over HTTP polling).</summary>
    public int DeliveredOverChannel { get; init; }
    public int Completed { get; init; }
    public int Succeeded { get; init; }
    public int Failed { get; init; }
    public int TimedOut { get; init; }
    /// <summary>Targets the brake of an action in waves kept back.</summary>
    public int NotSent { get; init; }
    /// <summary>Targets whose result was stored more than once (should be 0).</summary>
    public int Duplicates { get; init; }
    /// <summary>The waves of a push in waves; null for a push to all at once.</summary>
    public WavesReport? Waves { get; init; }
    /// <summary>Push to acknowledgement.</summary>
    public LatencySummary DeliveredLatency { get; init; } = LatencySummary.Empty;
    /// <summary>Push to stored result.</summary>
    public LatencySummary CompletedLatency { get; init; } = LatencySummary.Empty;
}

/// <summary>Percentiles (nearest rank) and a histogram of latencies, in milliseconds.</summary>
internal sealed record LatencySummary
{
    /// <summary>Upper bounds of the histogram buckets in ms; a last bucket holds everything above.</summary>
    public static readonly double[] BucketBounds = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];

    public static LatencySummary Empty { get; } = From([]);

    public int Count { get; init; }
    public double P50 { get; init; }
    public double P90 { get; init; }
    public double P95 { get; init; }
    public double P99 { get; init; }
    public double Max { get; init; }
    public double Mean { get; init; }
    public IReadOnlyList<HistogramBucket> Histogram { get; init; } = [];

    /// <summary>Summarises latencies in milliseconds.</summary>
    public static LatencySummary From(IEnumerable<double> milliseconds)
    {
        var sorted = milliseconds.Where(double.IsFinite).Order().ToArray();
        var buckets = new int[BucketBounds.Length + 1];
        foreach (var value in sorted)
        {
            var i = Array.FindIndex(BucketBounds, b => value <= b);
            buckets[i < 0 ? BucketBounds.Length : i]++;
        }

        return new LatencySummary
        {
            Count = sorted.Length,
            P50 = Percentile(sorted, 0.50),
            P90 = Percentile(sorted, 0.90),
            P95 = Percentile(sorted, 0.95),
            P99 = Percentile(sorted, 0.99),
            Max = sorted.Length == 0 ? 0 : sorted[^1],
            Mean = sorted.Length == 0 ? 0 : sorted.Average(),
            Histogram = buckets.Select((count, i) => new HistogramBucket(i < BucketBounds.Length ? BucketBounds[i] : null, count)).ToArray(),
        };
    }

    /// <summary>Nearest-rank percentile of sorted values (<paramref name="p"/> in 0..1); 0 when empty.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}

/// <summary>
/// How agents reconnected after an event (a server started again): the agents not reconnected when it happened, each one's time to
/// reconnect (every connection persistent again) in seconds, sorted, and how many reconnected in each second after the event.
/// </summary>
internal sealed record ReconnectSpread
{
    public required string EventId { get; init; }
    /// <summary>When the event happened, seconds into the run.</summary>
    public double At { get; init; }
    /// <summary>Agents running and not reconnected when it happened (the ones watched).</summary>
    public int Agents { get; init; }
    /// <summary>Each watched agent's reconnect time in seconds after the event, sorted; agents that never reconnected are missing.</summary>
    public IReadOnlyList<double> Seconds { get; init; } = [];
    /// <summary>Reconnects in each second after the event: [0] in the first second, [1] in the second...</summary>
    public IReadOnlyList<int> PerSecond { get; init; } = [];
    public int Reconnected { get; init; }
    public double P50 { get; init; }
    public double P90 { get; init; }
    public double P99 { get; init; }
    public double Max { get; init; }
    /// <summary>Most reconnects in one second.</summary>
    public int PeakPerSecond { get; init; }

    public static ReconnectSpread From(string eventId, double at, int agents, IEnumerable<double> seconds)
    {
        var sorted = seconds.Select(s => Math.Round(s, 2)).Order().ToArray();
        var perSecond = new int[sorted.Length == 0 ? 0 : (int)Math.Floor(sorted[^1]) + 1];
        foreach (var s in sorted)
        {
            perSecond[(int)Math.Floor(s)]++;
        }

        return new ReconnectSpread
        {
            EventId = eventId,
            At = Math.Round(at, 2),
            Agents = agents,
            Seconds = sorted,
            PerSecond = perSecond,
            Reconnected = sorted.Length,
            P50 = LatencySummary.Percentile(sorted, 0.50),
            P90 = LatencySummary.Percentile(sorted, 0.90),
            P99 = LatencySummary.Percentile(sorted, 0.99),
            Max = sorted.Length == 0 ? 0 : sorted[^1],
            PeakPerSecond = perSecond.DefaultIfEmpty(0).Max(),
        };
    }
}

/// <summary>One histogram bucket: values up to <see cref="UpToMs"/> (above the previous bound); null is the overflow bucket.</summary>
internal sealed record HistogramBucket(double? UpToMs, int Count);

/// <summary>
/// Traffic of a run (or of one group's agents): the simulated network's cells, and the agents' requests by kind, counted by the agents
/// over all their runs (<see cref="Tcm.Lab.Fleet.RequestCounts"/>).
/// </summary>
internal sealed record TrafficReport
{
    public IReadOnlyList<TrafficRow> Rows { get; init; } = [];
    /// <summary>Agent HTTP requests, both connections (registration, policy, polls, posts; downloads excluded).</summary>
    public long HttpRequests { get; init; }
    /// <summary>Messages the agents sent on their persistent channels, both connections, every kind (hello, ack, results, statuses, http.request...).</summary>
    public long ChannelRequests { get; init; }
    /// <summary>Agent-hours the figures cover (agents x hours running), for per-agent-hour rates.</summary>
    public double AgentHours { get; init; }

    /// <summary>Requests by <c>&lt;connection&gt; &lt;kind&gt;</c> (<c>ns http</c>, <c>ts task.result</c>...); they add up to <see cref="Requests"/>.</summary>
    public IReadOnlyDictionary<string, long> RequestsByKind { get; init; } = new Dictionary<string, long>();

    /// <summary>The same figures for each group's agents, by group name (empty inside a group's figures).</summary>
    public IReadOnlyDictionary<string, TrafficReport> Groups { get; init; } = new Dictionary<string, TrafficReport>();

    /// <summary>A figure of these counts: <paramref name="metric"/> over the part <paramref name="filter"/> selects (0 for a group without traffic).</summary>
    public double Figure(TrafficMetric metric, TrafficFilter filter)
    {
        if (filter.Group is { } group)
        {
            return Groups.GetValueOrDefault(group) is { } of ? of.Figure(metric, filter with { Group = null }) : 0;
        }

        var rows = Rows.Where(r => (filter.Destination is null || r.Destination == filter.Destination.ToString())
            && (filter.Purpose is null || r.Purpose == filter.Purpose.ToString())).ToArray();
        long Bytes(Func<TrafficRow, bool> where) => rows.Where(where).Sum(r => r.BytesSent + r.BytesReceived);
        // Plain bytes leave downloads out, unless the expectation asks for a purpose.
        var bytes = Bytes(r => filter.Purpose is not null || r.Purpose != "Download");
        var requests = RequestsByKind.Where(r => filter.IncludesRequest(r.Key)).Sum(r => r.Value);
        return metric switch
        {
            TrafficMetric.VpnPackageBytes => Bytes(r => r.Adapter == "Vpn" && r.Purpose == "Download"),
            TrafficMetric.VpnBytes => Bytes(r => r.Adapter == "Vpn"),
            TrafficMetric.PackageBytes => Bytes(r => r.Purpose == "Download"),
            TrafficMetric.Bytes => bytes,
            TrafficMetric.Requests => requests,
            TrafficMetric.RequestsPerAgentHour => AgentHours <= 0 ? 0 : requests / AgentHours,
            TrafficMetric.BytesPerAgentHour => AgentHours <= 0 ? 0 : bytes / AgentHours,
            _ => rows.Sum(r => r.Unreachable),
        };
    }

    public long BytesSent => Rows.Where(r => r.Purpose != "Download").Sum(r => r.BytesSent);
    public long BytesReceived => Rows.Where(r => r.Purpose != "Download").Sum(r => r.BytesReceived);
    public long Requests => HttpRequests + ChannelRequests;
    public double RequestsPerAgentHour => AgentHours <= 0 ? 0 : Requests / AgentHours;
    public double BytesPerAgentHour => AgentHours <= 0 ? 0 : (BytesSent + BytesReceived) / AgentHours;
    public long VpnPackageBytes => Rows.Where(r => r.Adapter == "Vpn" && r.Purpose == "Download").Sum(r => r.BytesSent + r.BytesReceived);
    public long VpnBytes => Rows.Where(r => r.Adapter == "Vpn").Sum(r => r.BytesSent + r.BytesReceived);
    public long PackageBytes => Rows.Where(r => r.Purpose == "Download").Sum(r => r.BytesSent + r.BytesReceived);
    public long Unreachable => Rows.Sum(r => r.Unreachable);

    /// <summary>What happened between an earlier snapshot and this one.</summary>
    public TrafficReport Minus(TrafficReport earlier)
    {
        var before = earlier.Rows.ToDictionary(r => (r.Adapter, r.Destination, r.Purpose));
        return new TrafficReport
        {
            Rows = Rows.Select(r => before.TryGetValue((r.Adapter, r.Destination, r.Purpose), out var b)
                ? r with { BytesSent = r.BytesSent - b.BytesSent, BytesReceived = r.BytesReceived - b.BytesReceived, Connections = r.Connections - b.Connections, Unreachable = r.Unreachable - b.Unreachable }
                : r).ToArray(),
            HttpRequests = HttpRequests - earlier.HttpRequests,
            ChannelRequests = ChannelRequests - earlier.ChannelRequests,
            AgentHours = AgentHours - earlier.AgentHours,
            RequestsByKind = RequestsByKind.ToDictionary(r => r.Key, r => r.Value - earlier.RequestsByKind.GetValueOrDefault(r.Key), StringComparer.Ordinal),
            Groups = Groups.ToDictionary(g => g.Key, g => earlier.Groups.GetValueOrDefault(g.Key) is { } b ? g.Value.Minus(b) : g.Value, StringComparer.Ordinal),
        };
    }

    /// <summary>The figures of counters and requests by kind (<see cref="Tcm.Lab.Fleet.RequestCounts"/>) over <paramref name="agentHours"/>.</summary>
    public static TrafficReport From(TrafficCounters counters, IReadOnlyDictionary<string, long> requests, double agentHours) => new()
    {
        Rows = RowsFrom(counters),
        HttpRequests = requests.Where(r => RequestCounts.IsHttp(r.Key)).Sum(r => r.Value),
        ChannelRequests = requests.Where(r => !RequestCounts.IsHttp(r.Key)).Sum(r => r.Value),
        RequestsByKind = requests,
        AgentHours = agentHours,
    };

    /// <summary>The rows of the simulated network's counters now.</summary>
    public static IReadOnlyList<TrafficRow> RowsFrom(TrafficCounters counters) =>
        counters.Snapshot()
            .Select(c => new TrafficRow(c.Adapter?.ToString() ?? "(unreachable)", c.Destination.ToString(), c.Purpose.ToString(), c.BytesSent, c.BytesReceived, c.Connections, c.Unreachable))
            .ToArray();
}

/// <summary>One traffic cell: adapter kind (<c>Ethernet</c>, <c>WiFi</c>, <c>Vpn</c>), destination class, purpose.</summary>
internal sealed record TrafficRow(string Adapter, string Destination, string Purpose, long BytesSent, long BytesReceived, long Connections, long Unreachable);

/// <summary>An expectation's verdict with the figure it saw.</summary>
/// <param name="Name">The name in the scenario.</param>
/// <param name="Text">The expression as written.</param>
/// <param name="Passed">Whether it held.</param>
/// <param name="Observed">The figure, e.g. <c>99.6% (996/1000) at 4.2s after vpn-flip</c>.</param>
/// <param name="Detail">Why it failed, or notes.</param>
internal sealed record ExpectationResult(string Name, string Text, bool Passed, string Observed, string? Detail = null);

/// <summary>
/// The simulator process's cost for the fleet: live managed heap and working set after a full collection, before the agents
/// were created and again with the fleet up, divided by the agents that were running (the heap's fragmentation with the fleet up
/// is recorded beside, not counted). With an in-process lab the figures
/// include the servers' side of every connection; against an external system they are the virtual agents' alone.
/// </summary>
internal sealed record ProcessFigures
{
    public required int AgentsRunning { get; init; }
    public required int AgentsPersistent { get; init; }
    public required bool ServersInProcess { get; init; }
    public required long ManagedBytesBefore { get; init; }
    public required long ManagedBytesWithFleet { get; init; }
    public long FragmentedBytesWithFleet { get; init; }
    public required long WorkingSetBefore { get; init; }
    public required long WorkingSetWithFleet { get; init; }
    public int PeakOpenSockets { get; init; }
    public double CpuSeconds { get; init; }

    /// <summary>How long the measurement waited for a quiet fleet, and whether it was quiet then; null: measured at once.</summary>
    public SettleFigures? Settled { get; init; }

    /// <summary>Simulated sockets with a receive buffer in flight when the heap was measured (an idle agent has none).</summary>
    public int ReceivesHoldingBuffer { get; init; }

    /// <summary>Simulated sockets with a receive buffer in flight when the run ended, before the fleet settled.</summary>
    public int ReceivesHoldingBufferAtEnd { get; init; }

    /// <summary>When the figures were read, in words, for the report.</summary>
    public string MeasuredWhen => Settled switch
    {
        null => "measured when the run ended",
        { Quiet: true } s => string.Create(CultureInfo.InvariantCulture,
            $"measured once the fleet was quiet (no result waiting for its acknowledgement, no receive buffer in flight) for {s.QuietSeconds:0.#} s; that took {s.WaitedSeconds:0.0} s after the run ended, when {ReceivesHoldingBufferAtEnd:N0} sockets had a receive buffer in flight"),
        { } s => string.Create(CultureInfo.InvariantCulture,
            $"the fleet was not quiet {s.WaitedSeconds:0} s after the run ended: measured with {ReceivesHoldingBuffer:N0} receive buffers in flight"),
    };

    public double ManagedBytesPerAgent => AgentsRunning == 0 ? 0 : (double)(ManagedBytesWithFleet - ManagedBytesBefore) / AgentsRunning;

    public double WorkingSetPerAgent => AgentsRunning == 0 ? 0 : (double)(WorkingSetWithFleet - WorkingSetBefore) / AgentsRunning;
}

/// <summary>How long the measurement of the process waited for the fleet to be quiet, and whether it was.</summary>
internal sealed record SettleFigures(double WaitedSeconds, bool Quiet, double QuietSeconds);
