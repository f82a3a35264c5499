namespace Tcm.Protocol.Admin;

/// <summary>
/// How an action goes out in waves (<c>waves</c> on <c>POST /tcm/admin/actions/task</c>, <c>/policy</c>, <c>/inventory</c>): the
/// targets, in computer-name order, are cut into waves of <see cref="Size"/> targets or <see cref="Percent"/> of them; wave 1 goes
/// at once, each next one <see cref="EverySeconds"/> after the previous one started. The brake stops the waves when the failed and
/// timed-out targets reach <see cref="StopAfterFailedPercent"/> of the targets sent so far, or <see cref="StopAfterFailedCount"/>:
/// the targets not sent yet become <c>not-sent</c>, with the reason.
/// </summary>
public sealed record WavePlan
{
    /// <summary>Targets per wave; give this or <see cref="Percent"/>.</summary>
    public int? Size { get; init; }

    /// <summary>Share of the action's targets per wave, 0 to 100 (rounded up to whole targets, at least one); give this or <see cref="Size"/>.</summary>
    public double? Percent { get; init; }

    /// <summary>Seconds from the start of one wave to the start of the next (0 to 86,400).</summary>
    public double EverySeconds { get; init; }

    /// <summary>The brake as a share: stop once failed and timed-out targets reach this percentage of the targets sent so far. Null: no such brake.</summary>
    public double? StopAfterFailedPercent { get; init; }

    /// <summary>The brake as a count: stop once this many targets failed or timed out. Null: no such brake.</summary>
    public int? StopAfterFailedCount { get; init; }
}

/// <summary>An action's waves in <see cref="ActionStatus.Waves"/>: the plan, each wave, and whether the brake stopped them.</summary>
public sealed record ActionWaves
{
    /// <summary><see cref="Sending"/> (waves still to send), <see cref="Done"/> (every wave sent) or <see cref="Stopped"/> (the brake tripped).</summary>
    public required string State { get; init; }

    public required WavePlan Plan { get; init; }

    /// <summary>When the next wave is due (the server's clock); null once no wave is left to send.</summary>
    public DateTimeOffset? NextWaveAt { get; init; }

    /// <summary>When the brake stopped the waves.</summary>
    public DateTimeOffset? StoppedAt { get; init; }

    /// <summary>Why the brake stopped the waves; the targets not sent carry it as their output.</summary>
    public string? StopReason { get; init; }

    public required IReadOnlyList<WaveStatus> Items { get; init; }

    /// <summary><see cref="State"/> while waves are left to send.</summary>
    public const string Sending = "sending";

    /// <summary><see cref="State"/> once every wave was sent.</summary>
    public const string Done = "done";

    /// <summary><see cref="State"/> once the brake stopped the waves.</summary>
    public const string Stopped = "stopped";
}

/// <summary>One wave of <see cref="ActionWaves.Items"/>.</summary>
public sealed record WaveStatus
{
    /// <summary>From 1.</summary>
    public required int Number { get; init; }

    /// <summary>How many targets the wave holds.</summary>
    public required int Targets { get; init; }

    /// <summary>When the wave was sent; null: not yet, or never (the brake stopped the waves first).</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>The wave's targets by state; states with none are left out.</summary>
    public required IReadOnlyDictionary<string, int> Counts { get; init; }
}
