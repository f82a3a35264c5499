namespace Tcm.Simulator.Reports;

/// <summary>
/// The live state of a run, published by the runner (about once a second) and read by the console view.
/// Thread-safe: <see cref="Publish"/> swaps an immutable <see cref="RunSnapshot"/>.
/// </summary>
internal sealed class RunProgress
{
    private RunSnapshot _current = RunSnapshot.Initial;

    /// <summary>The latest snapshot.</summary>
    public RunSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Replaces the snapshot.</summary>
    public void Publish(RunSnapshot snapshot) => Volatile.Write(ref _current, snapshot ?? throw new ArgumentNullException(nameof(snapshot)));

    /// <summary>Changes the snapshot atomically from the current one (safe from several threads).</summary>
    public void Update(Func<RunSnapshot, RunSnapshot> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        RunSnapshot seen, next;
        do
        {
            seen = Volatile.Read(ref _current);
            next = change(seen);
        }
        while (Interlocked.CompareExchange(ref _current, next, seen) != seen);
    }
}

/// <summary>One moment of a run, for the live view.</summary>
internal sealed record RunSnapshot
{
    public static RunSnapshot Initial { get; } = new();

    /// <summary>What the runner is doing: <c>starting lab</c>, <c>running</c>, <c>legacy run</c>, <c>checking</c>, <c>done</c>...</summary>
    public string Phase { get; init; } = "starting";
    public string Scenario { get; init; } = "";
    public TimeSpan Elapsed { get; init; }
    /// <summary>The scenario's hard stop.</summary>
    public TimeSpan Duration { get; init; }
    public int EventsDone { get; init; }
    public int EventsTotal { get; init; }
    /// <summary>The last event that happened, e.g. <c>vpn-flip (vpn-up, 300 agents)</c>.</summary>
    public string? LastEvent { get; init; }
    /// <summary>What the timeline waits for next, e.g. <c>ready: persistent >= 95%</c>.</summary>
    public string? NextEvent { get; init; }
    public int Agents { get; init; }
    /// <summary>The fleet's modes at the latest sample, as the report records them.</summary>
    public ModeSample Fleet { get; init; } = new() { At = 0 };
    /// <summary>Pushed actions still collecting results (and finished ones, for a while).</summary>
    public IReadOnlyList<PushProgress> Pushes { get; init; } = [];
    public int ExpectationsHeld { get; init; }
    public int ExpectationsFailed { get; init; }
    public int ExpectationsTotal { get; init; }
}

/// <summary>A pushed action's progress.</summary>
internal sealed record PushProgress(string Id, string Kind, int Targets, int Delivered, int Completed, int Failed);
