namespace Tcm.Lab.Fleet;

/// <summary>How the simulated executor behaves for a group's tasks.</summary>
public sealed record TaskBehaviour
{
    /// <summary>Share of tasks that fail, 0..1. Default 0.</summary>
    public double FailureRate { get; init; }
    /// <summary>How long a task runs: a fixed value or a uniform range. Default 100ms..500ms.</summary>
    public DurationRange Duration { get; init; } = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500));
}

/// <summary>A duration or a uniform range of durations (<c>2s</c> or <c>200ms..2s</c>).</summary>
public readonly record struct DurationRange(TimeSpan Min, TimeSpan Max)
{
    /// <summary>A value in the range for a uniform sample <paramref name="u"/> in [0, 1).</summary>
    public TimeSpan Pick(double u) => Min + (Max - Min) * u;

    public override string ToString() => Min == Max ? DurationText.Format(Min) : $"{DurationText.Format(Min)}..{DurationText.Format(Max)}";
}
