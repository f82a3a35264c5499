using System.Globalization;
using Tcm.Protocol.Admin;

namespace Tcm.Simulator.Reports;

/// <summary>A push's waves in the report: the plan in the scenario's words, whether the brake stopped them and why, and each wave.</summary>
internal sealed record WavesReport
{
    /// <summary><c>10% every 5s, stop after 2% failed</c>.</summary>
    public required string Plan { get; init; }
    /// <summary><c>sending</c>, <c>done</c> or <c>stopped</c> when the run ended.</summary>
    public required string State { get; init; }
    /// <summary>Seconds into the run when the brake stopped the waves.</summary>
    public double? StoppedAt { get; init; }
    public string? StopReason { get; init; }
    public required IReadOnlyList<WaveReport> Items { get; init; }

    /// <summary>From the server's view of the action; <paramref name="runStart"/> turns its times into seconds into the run.</summary>
    public static WavesReport From(ActionWaves waves, DateTimeOffset runStart) => new()
    {
        Plan = Describe(waves.Plan),
        State = waves.State,
        StoppedAt = waves.StoppedAt is { } at ? Seconds(at - runStart) : null,
        StopReason = waves.StopReason,
        Items = [.. waves.Items.Select(w => new WaveReport
        {
            Number = w.Number,
            Targets = w.Targets,
            StartedAt = w.StartedAt is { } started ? Seconds(started - runStart) : null,
            Counts = w.Counts,
        })],
    };

    /// <summary>The plan as a scenario writes it.</summary>
    public static string Describe(WavePlan plan)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{(plan.Percent is { } p ? $"{p:0.##}%" : $"{plan.Size}")} every {plan.EverySeconds:0.###}s");
        return plan.StopAfterFailedPercent is { } share ? string.Create(CultureInfo.InvariantCulture, $"{text}, stop after {share:0.##}% failed")
            : plan.StopAfterFailedCount is { } count ? string.Create(CultureInfo.InvariantCulture, $"{text}, stop after {count} failed")
            : text;
    }

    /// <summary>The heading both report forms show above the table: the plan, and the brake's reason when it stopped the waves.</summary>
    public string Heading => State == ActionWaves.Stopped
        ? string.Create(CultureInfo.InvariantCulture, $"{Plan}: stopped by the brake at {StoppedAt:0.0}s, {StopReason}")
        : $"{Plan}: {(State == ActionWaves.Done ? "every wave sent" : "waves still to send when the run ended")}";

    /// <summary>One row per wave as both report forms show it: wave, targets, sent at (seconds into the run, or why not), states.</summary>
    public IEnumerable<(int Wave, int Targets, string SentAt, string States)> Rows() =>
        Items.Select(w => (
            w.Number,
            w.Targets,
            w.StartedAt is { } at ? string.Create(CultureInfo.InvariantCulture, $"{at:0.0}s") : State == ActionWaves.Stopped ? "not sent" : "waiting",
            string.Join(", ", w.Counts.Select(c => $"{c.Key} {c.Value}"))));

    private static double Seconds(TimeSpan span) => Math.Round(span.TotalSeconds, 2);
}

/// <summary>One wave: when it went (seconds into the run; null: never) and its targets by state.</summary>
internal sealed record WaveReport
{
    public int Number { get; init; }
    public int Targets { get; init; }
    public double? StartedAt { get; init; }
    public IReadOnlyDictionary<string, int> Counts { get; init; } = new Dictionary<string, int>();
}
